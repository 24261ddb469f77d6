import { createMemoryRelayStorage } from '@mindsync/relay'
import type { EnvelopeRecord, RelayStorage } from '@mindsync/relay'

/** A relay storage in memory that can be deep-copied at any moment (to roll a relay back or fork it). */
export interface CopyableStorage extends RelayStorage {
  /** A deep copy of everything stored so far, with the same relay id. Taken synchronously: later writes do not reach it. */
  copy(): Promise<CopyableStorage>
}

type Write =
  | { type: 'op'; vaultId: Uint8Array; index: number; op: Uint8Array; added?: Uint8Array }
  | { type: 'envelopes'; batch: EnvelopeRecord[] }
  | { type: 'touch'; vaultId: Uint8Array; deviceId: Uint8Array; timeMs: number }

const copyRecord = (r: EnvelopeRecord): EnvelopeRecord => ({ ...r, vaultId: r.vaultId.slice(), docId: r.docId.slice(), deviceId: r.deviceId.slice(), bytes: r.bytes.slice(), hash: r.hash.slice() })

/**
 * The relay's memory storage with a journal of every successful write: a
 * copy replays the journal, as it stands when `copy()` is called, into a
 * fresh memory storage. The copy answers to the same relay id, so a device
 * talking to it cannot tell it from the relay it knew.
 */
export function createCopyableStorage(relayId?: Uint8Array): CopyableStorage {
  const inner = createMemoryRelayStorage()
  const journal: Write[] = []

  const storage: CopyableStorage = {
    relayId: () => (relayId ? Promise.resolve(relayId.slice()) : inner.relayId()),
    loadOps: (vaultId) => inner.loadOps(vaultId),
    async appendOp(vaultId, index, op, added) {
      const ok = await inner.appendOp(vaultId, index, op, added)
      if (ok) journal.push({ type: 'op', vaultId: vaultId.slice(), index, op: op.slice(), ...(added ? { added: added.slice() } : {}) })
      return ok
    },
    memberVaults: (deviceId) => inner.memberVaults(deviceId),
    async appendEnvelopes(batch) {
      const seqs = await inner.appendEnvelopes(batch)
      journal.push({ type: 'envelopes', batch: batch.map(copyRecord) })
      return seqs
    },
    baseSnapshot: (vaultId, docId) => inner.baseSnapshot(vaultId, docId),
    docUsage: (vaultId, docId) => inner.docUsage(vaultId, docId),
    readEnvelopes: (vaultId, docId, after, count, bytes) => inner.readEnvelopes(vaultId, docId, after, count, bytes),
    findEnvelope: (vaultId, docId, deviceId, seq) => inner.findEnvelope(vaultId, docId, deviceId, seq),
    deviceHead: (vaultId, docId, deviceId) => inner.deviceHead(vaultId, docId, deviceId),
    headSeq: (vaultId, docId) => inner.headSeq(vaultId, docId),
    async touchDevice(vaultId, deviceId, timeMs) {
      await inner.touchDevice(vaultId, deviceId, timeMs)
      journal.push({ type: 'touch', vaultId: vaultId.slice(), deviceId: deviceId.slice(), timeMs })
    },
    lastSeen: (vaultId) => inner.lastSeen(vaultId),
    close: () => inner.close(),
    async copy() {
      const upTo = journal.slice()
      const id = relayId ?? (await inner.relayId())
      const c = createCopyableStorage(id)
      for (const w of upTo) {
        if (w.type === 'op') await c.appendOp(w.vaultId, w.index, w.op, w.added)
        else if (w.type === 'envelopes') await c.appendEnvelopes(w.batch)
        else await c.touchDevice(w.vaultId, w.deviceId, w.timeMs)
      }
      return c
    },
  }
  return storage
}

/**
 * A view of a storage that a "crashed" relay core held: after `kill()` every
 * call fails, so the dead core's late group commits change nothing while a
 * new core works on the same storage.
 */
export function fenceStorage(s: RelayStorage): { storage: RelayStorage; kill(): void } {
  let dead = false
  const guard =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (dead) throw new Error('relay process is gone')
      return fn(...args)
    }
  return {
    storage: {
      relayId: guard(() => s.relayId()),
      loadOps: guard((v) => s.loadOps(v)),
      appendOp: guard((v, i, op, added) => s.appendOp(v, i, op, added)),
      memberVaults: guard((d) => s.memberVaults(d)),
      appendEnvelopes: guard((b) => s.appendEnvelopes(b)),
      baseSnapshot: guard((v, d) => s.baseSnapshot(v, d)),
      docUsage: guard((v, d) => s.docUsage(v, d)),
      readEnvelopes: guard((v, d, a, c, b) => s.readEnvelopes(v, d, a, c, b)),
      findEnvelope: guard((v, d, dev, seq) => s.findEnvelope(v, d, dev, seq)),
      deviceHead: guard((v, d, dev) => s.deviceHead(v, d, dev)),
      headSeq: guard((v, d) => s.headSeq(v, d)),
      touchDevice: guard((v, d, t) => s.touchDevice(v, d, t)),
      lastSeen: guard((v) => s.lastSeen(v)),
      // The storage outlives the process that used it.
      close: async () => {},
    },
    kill() {
      dead = true
    },
  }
}
