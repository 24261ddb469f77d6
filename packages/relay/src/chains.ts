import { toHex } from '@mindsync/crypto'
import { ZERO_HASH, envelopeHash, sameBytes } from '@mindsync/protocol'
import type { Envelope } from '@mindsync/protocol'
import type { Connection } from './connection.js'
import { BoundedMap } from './lru.js'
import type { EnvelopeRecord, RelayStorage } from './storage.js'

/** An accepted push waiting for its group commit. */
export interface PendingPush {
  record: EnvelopeRecord
  /** vault:doc:device (hex) */
  chainKey: string
  /** vault:doc (hex) */
  docKey: string
  /** The connection that pushed it, and any that resent the same bytes before it was stored: each gets the ack. */
  pushers: Connection[]
  serverSeq: number
  /** Subscribers sent it before it was stored (early fan-out). */
  early?: Connection[]
}

/** What to do with a push, by the author's chain for the doc. */
export type PushVerdict =
  | { kind: 'accept'; item: PendingPush }
  | { kind: 'stored'; serverSeq: number }
  | { kind: 'pending'; item: PendingPush }
  | { kind: 'reject'; code: 'E_CHAIN' | 'E_EQUIVOCATION' | 'E_STALE_EPOCH'; message: string }

interface ChainHead {
  seq: number
  hash: Uint8Array
  /**
   * Accepted pushes of this chain not yet stored, in seq order (the last is
   * `seq`); a head with pending pushes is never evicted. Kept on the head,
   * not in one Map for all chains: a Map that takes and drops an entry per
   * push rebuilds its table every few pushes, and V8 links each replaced
   * table to the next, which kept every push's objects alive into the old
   * generation (bench README, "Old-generation garbage").
   */
  waiting: PendingPush[]
}

/**
 * The per-device hash chains of every doc, as far as the relay checks them:
 * each push must name the next seq and the hash of the device's previous
 * envelope. Heads are cached and advanced when a push is accepted (before it
 * is stored), so a burst of pushes in one turn needs one storage read.
 */
export interface Chains {
  /** `stale`: why a new envelope must be refused although its place in the chain is right (a resend of a stored one is still acknowledged). */
  admit(env: Envelope, pusher: Connection, stale?: string): Promise<PushVerdict>
  /** The item is stored: it no longer counts as pending. */
  stored(item: PendingPush): void
  /** The items could not be stored: forget their chains' heads (they are reloaded from storage). */
  failed(items: readonly PendingPush[]): void
  /** The device's chain head seq for the doc, counting pushes accepted but not yet stored. */
  headSeq(vaultId: Uint8Array, docId: Uint8Array, deviceId: Uint8Array): Promise<number>
  /** A device's envelopes of a doc with from ≤ seq ≤ to that are accepted but not stored yet (sent early to subscribers). */
  pendingBySeq(vaultId: Uint8Array, docId: Uint8Array, deviceId: Uint8Array, from: number, to: number): Uint8Array[]
}

/** vault:doc:device (hex), as PendingPush.chainKey. */
const chainKeyOf = (vaultId: Uint8Array, docId: Uint8Array, deviceId: Uint8Array): string => `${toHex(vaultId)}:${toHex(docId)}:${toHex(deviceId)}`

export function createChains(storage: RelayStorage, maxCached: number): Chains {
  const heads = new BoundedMap<string, ChainHead>(maxCached, (h) => h.waiting.length > 0)
  const loading = new Map<string, Promise<ChainHead>>()

  /** The accepted, not yet stored push of the chain with this seq (a resend: rare, and the list is short). */
  function waitingAt(head: ChainHead, seq: number): PendingPush | undefined {
    return head.waiting.find((item) => item.record.seq === seq)
  }

  async function headOf(key: string, ids: { vaultId: Uint8Array; docId: Uint8Array; deviceId: Uint8Array }): Promise<ChainHead> {
    const hit = heads.get(key)
    if (hit) return hit
    let p = loading.get(key)
    if (!p) {
      const { vaultId, docId, deviceId } = ids
      p = storage
        .deviceHead(vaultId, docId, deviceId)
        .then((h): ChainHead => (h ? { seq: h.seq, hash: h.hash, waiting: [] } : { seq: 0, hash: ZERO_HASH, waiting: [] }))
        .finally(() => loading.delete(key))
      loading.set(key, p)
    }
    const loaded = await p
    // Every waiter of one load shares one head object; the first installs it.
    const installed = heads.get(key)
    if (installed) return installed
    heads.set(key, loaded)
    return loaded
  }

  async function resent(head: ChainHead, env: Envelope): Promise<PushVerdict> {
    const { vaultId, docId, deviceId, seq } = env.header
    const waiting = waitingAt(head, seq)
    if (waiting) {
      return sameBytes(waiting.record.bytes, env.bytes)
        ? { kind: 'pending', item: waiting }
        : { kind: 'reject', code: 'E_EQUIVOCATION', message: `a different envelope with seq ${seq} is already accepted` }
    }
    const stored = await storage.findEnvelope(vaultId, docId, deviceId, seq)
    if (!stored) return pruned(head, env)
    return sameBytes(stored.bytes, env.bytes)
      ? { kind: 'stored', serverSeq: stored.serverSeq }
      : { kind: 'reject', code: 'E_EQUIVOCATION', message: `a different envelope with seq ${seq} is already stored` }
  }

  /**
   * A resend of a seq the relay stored and then pruned: acknowledged with the
   * base snapshot's serverSeq (the envelope is held through it), so a device
   * resending its outbox after a lost ack moves on. Refused where the relay
   * still knows the envelope's hash (its own chain head, or the base's
   * covered head for exactly this seq) and it differs.
   */
  async function pruned(head: ChainHead, env: Envelope): Promise<PushVerdict> {
    const { vaultId, docId, deviceId, seq } = env.header
    const base = await storage.baseSnapshot(vaultId, docId)
    const covered = base?.covers.find((c) => sameBytes(c.deviceId, deviceId))
    if (!base || !covered || covered.seq < seq) return { kind: 'reject', code: 'E_CHAIN', message: `expected seq ${head.seq + 1}` }
    const known = seq === head.seq ? head.hash : seq === covered.seq ? covered.hash : undefined
    if (known && !sameBytes(known, envelopeHash(env))) {
      return { kind: 'reject', code: 'E_EQUIVOCATION', message: `a different envelope with seq ${seq} was stored (now held through the base snapshot)` }
    }
    return { kind: 'stored', serverSeq: base.serverSeq }
  }

  return {
    async admit(env, pusher, stale) {
      const h = env.header
      const docKey = `${toHex(h.vaultId)}:${toHex(h.docId)}`
      const key = `${docKey}:${toHex(h.deviceId)}`
      const head = await headOf(key, h)
      // From here to the end of the accept branch nothing awaits, so two
      // pushes of one chain can never both take the same place.
      if (h.seq <= head.seq) return resent(head, env)
      if (h.seq !== head.seq + 1) return { kind: 'reject', code: 'E_CHAIN', message: `expected seq ${head.seq + 1}` }
      if (!sameBytes(h.prevHash, head.hash)) {
        return { kind: 'reject', code: 'E_CHAIN', message: `expected seq ${head.seq + 1} with prevHash naming seq ${head.seq}` }
      }
      if (stale !== undefined) return { kind: 'reject', code: 'E_STALE_EPOCH', message: stale }
      const hash = envelopeHash(env)
      head.seq = h.seq
      head.hash = hash
      const item: PendingPush = {
        record: { vaultId: h.vaultId, docId: h.docId, deviceId: h.deviceId, seq: h.seq, kind: h.kind, bytes: env.bytes, hash, ...(h.covers ? { covers: h.covers } : {}) },
        chainKey: key,
        docKey,
        pushers: [pusher],
        serverSeq: 0,
      }
      head.waiting.push(item)
      return { kind: 'accept', item }
    },

    stored(item) {
      const waiting = heads.get(item.chainKey)?.waiting
      if (!waiting) return
      // Stored in the order accepted, so normally the first.
      if (waiting[0] === item) waiting.shift()
      else {
        const i = waiting.indexOf(item)
        if (i >= 0) waiting.splice(i, 1)
      }
    },

    async headSeq(vaultId, docId, deviceId) {
      return (await headOf(chainKeyOf(vaultId, docId, deviceId), { vaultId, docId, deviceId })).seq
    },

    pendingBySeq(vaultId, docId, deviceId, from, to) {
      const key = chainKeyOf(vaultId, docId, deviceId)
      const out: Uint8Array[] = []
      for (const item of heads.get(key)?.waiting ?? []) if (item.record.seq >= from && item.record.seq <= to) out.push(item.record.bytes)
      return out
    },

    failed(items) {
      // Their heads go with the pushes waiting on them (the caller fails every later push of these chains too).
      for (const item of items) heads.delete(item.chainKey)
    },
  }
}
