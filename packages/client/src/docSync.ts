import { fromHex, toHex } from '@mindsync/crypto'
import {
  EnvelopeKind,
  MindsyncError,
  Scope,
  ZERO_HASH,
  decodeEnvelope,
  envelopeHash,
  hasScope,
  isMindsyncError,
  openEnvelope,
  sameBytes,
  hasValidTag,
  receiverTag,
  sealEnvelope,
  verifyEnvelope,
  withTags,
} from '@mindsync/protocol'
import type { ClientMessage, CoveredHead, Envelope, ErrorCode, Member, ReceiverTag, StoredEnvelope } from '@mindsync/protocol'
import * as Y from 'yjs'
import type { Alert } from './alerts.js'
import { ChainTracker } from './chain.js'
import { decodeSnapshotBody, encodeSnapshotBody } from './snapshotBody.js'
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.js'
import { IntegrityCheck } from './integrity.js'
import { authenticate } from './vouch.js'
import type { Decoded } from './vouch.js'
import type { DeviceIdentity } from './identity.js'
import type { LocalEnvelope, LocalStore, OutboxEntry } from './localStore.js'
import type { Membership } from './membership.js'
import { nextTurn } from './nextTurn.js'

/** Why an envelope was not applied. */
export interface Rejection {
  doc: string
  /** Who refused: the relay refused this device's envelope, this device refused a received one, or a local change could not be sealed. */
  origin: 'relay' | 'received' | 'local'
  code: ErrorCode
  message: string
  author?: string
  seq?: number
  serverSeq?: number
}

export interface DocContext {
  identity: DeviceIdentity
  membership: Membership
  store: LocalStore
  batchMs: number
  /** Sends when online; returns false when offline. */
  send(message: ClientMessage): boolean
  rejected(rejection: Rejection): void
  alert(alert: Omit<Alert, 'at'>): void
  changed(): void
  /** Reports a long push (at least PROGRESS_FROM envelopes) as it goes. */
  progress(p: Progress): void
  /** Write a snapshot once this many envelopes or bytes arrived since the last one (0: never for that reason). */
  snapshotEvery: { envelopes: number; bytes: number }
}

/** How far a long push has come. */
export interface Progress {
  doc: string
  phase: 'push'
  done: number
  total: number
}

/** Own envelopes awaiting the relay's answer at most; the rest wait their turn. */
const PUSH_WINDOW = 512
/** A push of fewer envelopes reports no progress. */
const PROGRESS_FROM = 200

/** Envelope kinds whose body is a Yjs update: an update, or a snapshot's whole state. */
const CONTENT_KINDS = new Set<number>([EnvelopeKind.update, EnvelopeKind.snapshot])

/** The Yjs update an update or snapshot envelope carries. */
function contentOf(env: Envelope, plaintext: Uint8Array): Uint8Array {
  return env.header.kind === EnvelopeKind.snapshot ? decodeSnapshotBody(plaintext) : plaintext
}

/** What arrived since the last snapshot this device saw: enough to tell when the next one is due. */
class SinceSnapshot {
  count = 0
  bytes = 0
  oldestEpoch = Number.POSITIVE_INFINITY

  note(env: Envelope, size: number): void {
    if (env.header.kind === EnvelopeKind.snapshot) return this.reset()
    this.count++
    this.bytes += size
    this.oldestEpoch = Math.min(this.oldestEpoch, env.header.epoch)
  }

  reset(): void {
    this.count = 0
    this.bytes = 0
    this.oldestEpoch = Number.POSITIVE_INFINITY
  }
}

/**
 * One Yjs document bound to one vault doc: batches local updates into one
 * sealed, signed envelope, keeps it in the outbox until acknowledged, and
 * verifies, orders and applies what arrives.
 */
export class DocSync {
  readonly key: string
  private pending: Uint8Array[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private writes: Promise<void> = Promise.resolve()
  private reads: Promise<void> = Promise.resolve()
  private readonly chains = new ChainTracker()
  private mySeq = 0
  private myHash: Uint8Array = ZERO_HASH
  private outbox = new Set<number>()
  private cursor = 0
  /** Highest own seq the relay acknowledged: a relay that later lacks it rolled back. */
  private ackedMax = 0
  /** Highest serverSeq the relay gave an own envelope: its log cannot end before it. */
  private ackedServerMax = 0
  private lastCheckpoint = ''
  private readonly rejectedAt = new Set<string>()
  /** The lowest own seq sealed again after a removal (see resealFrom). */
  private resealedFrom: number | undefined
  /** The epoch those were sealed under: a refusal after a newer epoch arrived seals them again. */
  private resealedEpoch = -1
  private readonly integrity: IntegrityCheck
  /**
   * Per author, the highest seq this device knows the relay stored (it
   * stores each author's envelopes in seq order, so every earlier one too):
   * from envelopes it served with a serverSeq, acks, `stored` markers,
   * stored snapshots' covers and other devices' checkpoints. Envelopes the
   * relay sent early may be held beyond it; what this device states to
   * others (checkpoints, snapshot covers) and holes it reports as withheld
   * stop at it, so a relay that crashed before storing them is not accused.
   */
  private readonly confirmed = new Map<string, number>()
  /**
   * Own acknowledged envelopes this device holds, by the serverSeq the relay
   * gave them: serverSeq → own seq. A relay numbers each envelope of a doc
   * once, so another envelope served at one of these serverSeqs shows this
   * device a different history than the one it acknowledged: a fork (what a
   * replayed push can hide from every other check). Kept after the cursor
   * passes them, since a relay can serve an old serverSeq again (a repair
   * fetch, a subscribe from an older cursor); dropped with the envelopes a
   * snapshot compacts, so it is as large as the local store's own part.
   */
  private readonly ownAt = new Map<number, number>()
  private readonly sinceSnapshot = new SinceSnapshot()
  /** Own envelopes still to push on this connection, in seq order, and how many await an answer. */
  private unsent: OutboxEntry[] = []
  private inFlight = 0
  private online = false
  private pushed = 0
  private pushTotal = 0
  caughtUp = false
  /**
   * When to seal local changes: right after the event-loop turn that made
   * them while no push of this doc awaits an answer, otherwise once the
   * answers are in (or after batchMs at the latest) — the way TCP's Nagle
   * algorithm holds small segments while one is unacknowledged. An idle
   * device sends a change at once; a busy one merges what accumulates while
   * the relay works, so one signature and one envelope cover many changes
   * exactly when the devices have the least time for each.
   */
  private readonly onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === this) return
    this.pending.push(update)
    this.scheduleFlush()
  }
  /** Cancels the flush scheduled for the next turn, when there is one. */
  private cancelTurn: (() => void) | undefined
  private scheduleFlush(): void {
    if (this.pending.length === 0 || this.cancelTurn !== undefined) return
    if (this.inFlight === 0 || !this.online) {
      if (this.timer !== undefined) clearTimeout(this.timer)
      this.timer = undefined
      this.cancelTurn = nextTurn(() => {
        this.cancelTurn = undefined
        void this.flush()
      })
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => void this.flush(), this.ctx.batchMs)
    }
  }
  /**
   * Yjs encodes every transaction's update when anyone listens to 'update',
   * so the listener is attached only for transactions this engine did not
   * make (local changes, including those observers make while a received
   * update is applied), and detached once they are all done: applying
   * received updates costs no encoding.
   */
  private listening = false
  private readonly onBeforeTransaction = (tr: Y.Transaction): void => {
    if (tr.origin === this || this.listening) return
    this.listening = true
    this.doc.on('update', this.onUpdate)
  }
  private readonly onAfterAllTransactions = (): void => {
    if (!this.listening) return
    this.listening = false
    this.doc.off('update', this.onUpdate)
  }

  constructor(
    readonly name: string,
    readonly docId: Uint8Array,
    readonly doc: Y.Doc,
    private readonly ctx: DocContext,
  ) {
    this.key = toHex(docId)
    this.integrity = new IntegrityCheck(name, this.chains, ctx.membership, (a) => ctx.alert(a), (author) => this.confirmed.get(author) ?? 0)
  }

  private confirm(author: string, seq: number): void {
    if (seq > (this.confirmed.get(author) ?? 0)) this.confirmed.set(author, seq)
  }

  /** An envelope the relay stored: its author's chain up to it is stored, and so is all a snapshot covers. */
  private confirmStored(author: string, header: Envelope['header']): void {
    this.confirm(author, header.seq)
    for (const c of header.covers ?? []) this.confirm(toHex(c.deviceId), c.seq)
  }

  /** An author's hole-free head as far as the relay is known to have stored it (seq 0 when its hash is not known). */
  private storedHead(author: string): { seq: number; hash: Uint8Array } {
    const head = this.chains.contiguousHead(author)
    const stored = this.confirmed.get(author) ?? 0
    if (head.seq <= stored) return head
    const link = this.chains.at(author, stored)
    return link ? { seq: stored, hash: link.hash } : { seq: 0, hash: ZERO_HASH }
  }

  /** Loads what the device stored, rebuilds the document, and starts listening for local changes. */
  async load(): Promise<void> {
    const stored = (await this.ctx.store.listEnvelopes(this.key)).map((item) => ({ item, env: decodeEnvelope(item.envelope) }))
    // Snapshots first: the chains they cover start from their heads.
    for (const { env } of stored) for (const c of env.header.covers ?? []) this.chains.cover(toHex(c.deviceId), c.seq, c.hash)
    const updates: Uint8Array[] = []
    for (const { item, env } of stored) {
      const hash = envelopeHash(env)
      this.chains.add(item.author, item.seq, env.header.prevHash, hash)
      if (item.author === this.ctx.identity.id && item.seq > this.mySeq) {
        this.mySeq = item.seq
        this.myHash = hash
      }
      if (item.author === this.ctx.identity.id && item.serverSeq !== null) {
        this.ackedMax = Math.max(this.ackedMax, item.seq)
        this.ackedServerMax = Math.max(this.ackedServerMax, item.serverSeq)
      }
      if (item.serverSeq !== null) this.confirmStored(item.author, env.header)
      this.sinceSnapshot.note(env, item.envelope.length)
      const key = this.ctx.membership.derivedKey(env.header.epoch, 'envelope')
      if (key && CONTENT_KINDS.has(env.header.kind)) updates.push(contentOf(env, openEnvelope(env, key)))
    }
    this.applyUpdates(updates)
    if (updates.length > 0) this.ctx.changed()
    this.cursor = await this.ctx.store.getCursor(this.key)
    for (const { item } of stored) if (item.author === this.ctx.identity.id && item.serverSeq !== null) this.ownAt.set(item.serverSeq, item.seq)
    for (const o of await this.ctx.store.listOutbox(this.key)) this.outbox.add(o.seq)
    this.doc.on('beforeTransaction', this.onBeforeTransaction)
    this.doc.on('afterAllTransactions', this.onAfterAllTransactions)
  }

  /** Applies received or stored updates in one transaction; the caller tells the client once they are also stored. */
  private applyUpdates(updates: Uint8Array[]): void {
    if (updates.length === 0) return
    Y.transact(this.doc, () => {
      for (const u of updates) Y.applyUpdate(this.doc, u, this)
    }, this)
  }

  /** Seals every local update made so far into one envelope and stores it in the outbox. */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.cancelTurn?.()
    this.timer = undefined
    this.cancelTurn = undefined
    if (this.pending.length === 0) return this.writes
    const updates = this.pending
    this.pending = []
    this.writes = this.writes.then(() => this.seal(updates))
    return this.writes
  }

  private async seal(updates: Uint8Array[]): Promise<void> {
    await this.sealKind(EnvelopeKind.update, updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates(updates))
  }

  private async sealKind(kind: EnvelopeKind, plaintext: Uint8Array, covers?: CoveredHead[]): Promise<Envelope | undefined> {
    const { membership, identity } = this.ctx
    const self = membership.self()
    const state = membership.state
    const key = state && membership.derivedKey(state.epoch, 'envelope')
    if (!self || !state || !key || !hasScope(self, Scope.write)) {
      const why = !self ? 'this device is not a member of the vault' : 'this device may only read'
      this.ctx.rejected({ doc: this.name, origin: 'local', code: self ? 'E_SCOPE' : 'E_NOT_MEMBER', message: `local change not synced: ${why}` })
      return undefined
    }
    const sealed = sealEnvelope({
      kind,
      vaultId: state.vaultId,
      docId: this.docId,
      epoch: state.epoch,
      deviceId: identity.deviceId,
      seq: this.mySeq + 1,
      prevHash: this.myHash,
      key,
      signer: identity.signer,
      plaintext,
      ...(covers ? { covers } : {}),
    })
    const hash = envelopeHash(sealed)
    const env = this.tagged(sealed, hash)
    await this.ctx.store.addLocal(this.key, { author: identity.id, seq: env.header.seq, envelope: env.bytes })
    this.mySeq = env.header.seq
    this.myHash = hash
    this.chains.add(identity.id, this.mySeq, env.header.prevHash, this.myHash)
    this.outbox.add(this.mySeq)
    this.sinceSnapshot.note(env, env.bytes.length)
    if (this.online) {
      this.unsent.push({ seq: this.mySeq, envelope: env.bytes })
      this.pump()
    }
    return env
  }

  /** The envelope with a receiver tag for every other current member (protocol tags.ts). */
  private tagged(env: Envelope, hash: Uint8Array): Envelope {
    const tags: ReceiverTag[] = []
    for (const r of this.tagRecipients(env.header.epoch)) tags.push(receiverTag(r.key, r.deviceId, hash))
    return tags.length > 0 ? withTags(env, tags) : env
  }

  /** The other current members and their pair keys for an epoch, until the membership changes. */
  private tagRecipients(epoch: number): { deviceId: Uint8Array; key: Uint8Array }[] {
    const { membership, identity } = this.ctx
    const members = membership.members()
    const cached = this.recipients
    if (cached && cached.members === members && cached.epoch === epoch) return cached.list
    const list: { deviceId: Uint8Array; key: Uint8Array }[] = []
    for (const m of members) {
      if (sameBytes(m.deviceId, identity.deviceId)) continue
      const key = membership.pairKey(m.deviceId, epoch)
      if (key) list.push({ deviceId: m.deviceId, key })
    }
    this.recipients = { members, epoch, list }
    return list
  }
  private recipients: { members: readonly Member[]; epoch: number; list: { deviceId: Uint8Array; key: Uint8Array }[] } | undefined

  /**
   * Seals the whole merged state as a snapshot covering, per author, every
   * envelope this device holds without a hole; the relay then prunes what it
   * covers and a new device starts from it. Old data is sealed again under
   * the current epoch. Drops the covered envelopes from the local store.
   */
  snapshot(): Promise<boolean> {
    void this.flush()
    let wrote = false
    this.writes = this.writes.then(async () => {
      const covers: CoveredHead[] = []
      for (const author of this.chains.authorIds()) {
        const h = this.storedHead(author)
        if (h.seq > 0) covers.push({ deviceId: fromHex(author), seq: h.seq, hash: h.hash })
      }
      const env = await this.sealKind(EnvelopeKind.snapshot, encodeSnapshotBody(Y.encodeStateAsUpdate(this.doc)), covers)
      if (!env) return
      wrote = true
      await this.compactWith(env)
    })
    return this.writes.then(() => wrote)
  }

  /** Writes a snapshot when the envelopes since the last one pass the policy, or old epochs' data could be sealed again. */
  async snapshotIfDue(): Promise<boolean> {
    // A read-only device cannot write one (and would report that on every sync).
    const self = this.ctx.membership.self()
    if (!self || !hasScope(self, Scope.write)) return false
    const policy = this.ctx.snapshotEvery
    const epoch = this.ctx.membership.state?.epoch ?? 0
    const s = this.sinceSnapshot
    const due =
      (policy.envelopes > 0 && s.count >= policy.envelopes) || (policy.bytes > 0 && s.bytes >= policy.bytes) || (s.count > 0 && s.oldestEpoch < epoch)
    return due ? this.snapshot() : false
  }

  /** Drops the local envelopes a snapshot this device holds covers. */
  private async compactWith(env: Envelope): Promise<void> {
    const covers = (env.header.covers ?? []).map((c) => ({ author: toHex(c.deviceId), seq: c.seq }))
    await this.ctx.store.compact(this.key, { author: toHex(env.header.deviceId), seq: env.header.seq }, covers)
    const own = covers.find((c) => c.author === this.ctx.identity.id)
    if (own) for (const [serverSeq, seq] of this.ownAt) if (seq <= own.seq) this.ownAt.delete(serverSeq)
  }

  /** Called once the connection is ready: subscribe from the cursor and resend the outbox. */
  async connected(): Promise<void> {
    this.caughtUp = false
    this.resealedFrom = undefined
    this.integrity.reset()
    await this.flush()
    this.ctx.send({ type: 'subscribe', docId: this.docId, cursor: this.cursor })
    // In the chain of writes, so no envelope is sealed between listing the outbox and going online.
    this.writes = this.writes.then(async () => {
      this.unsent = await this.ctx.store.listOutbox(this.key)
      this.inFlight = 0
      this.pushed = 0
      this.pushTotal = this.unsent.length
      this.online = true
      this.pump()
    })
    await this.writes
  }

  disconnected(): void {
    this.caughtUp = false
    this.online = false
    this.unsent = []
    this.inFlight = 0
    // No answer will come: seal what was held for one (into the outbox, sent on reconnect).
    this.scheduleFlush()
  }

  /**
   * Sends own envelopes in order, at most PUSH_WINDOW awaiting the relay's
   * answer: a device back from months offline pushes thousands of envelopes
   * at a steady pace instead of all in one burst.
   */
  private pump(): void {
    while (this.inFlight < PUSH_WINDOW && this.unsent.length > 0) {
      const next = this.unsent[0] as OutboxEntry
      if (!this.ctx.send({ type: 'push', envelope: next.envelope })) return
      this.unsent.shift()
      this.inFlight++
    }
  }

  /** The relay answered one push (acknowledged or refused): the next may go. */
  private answered(): void {
    if (this.inFlight > 0) this.inFlight--
    this.pushed++
    if (this.pushTotal >= PROGRESS_FROM) this.ctx.progress({ doc: this.name, phase: 'push', done: Math.min(this.pushed, this.pushTotal), total: this.pushTotal })
    this.pump()
    // Changes held while pushes were unanswered go as soon as the last answer is in.
    if (this.inFlight === 0) this.scheduleFlush()
  }

  /** True when everything local reached the relay and everything on the relay reached this device. */
  get settled(): boolean {
    return this.caughtUp && this.outbox.size === 0 && this.pending.length === 0 && this.integrity.pendingFetches === 0
  }

  /** Why the doc is not settled, for an error message ('' when it is). */
  unsettled(): string {
    const why: string[] = []
    if (!this.caughtUp) why.push('not caught up')
    if (this.outbox.size > 0) why.push(`${this.outbox.size} envelope(s) unacknowledged (${this.inFlight} awaiting an answer, ${this.unsent.length} unsent)`)
    if (this.pending.length > 0) why.push('local changes not sealed yet')
    if (this.integrity.pendingFetches > 0) why.push(`${this.integrity.pendingFetches} repair fetch(es) unanswered`)
    return why.length === 0 ? '' : `${this.name}: ${why.join(', ')}`
  }

  get outboxSize(): number {
    return this.outbox.size + (this.pending.length > 0 ? 1 : 0)
  }

  acknowledged(seq: number, serverSeq: number): Promise<void> {
    this.answered()
    this.writes = this.writes.then(async () => {
      if (!this.outbox.has(seq)) return
      await this.ctx.store.acknowledge(this.key, seq, serverSeq)
      this.confirm(this.ctx.identity.id, seq)
      this.outbox.delete(seq)
      this.ownAt.set(serverSeq, seq)
      this.ackedMax = Math.max(this.ackedMax, seq)
      this.ackedServerMax = Math.max(this.ackedServerMax, serverSeq)
      this.ctx.changed()
    })
    return this.writes
  }

  caughtUpTo(head: number): Promise<void> {
    this.reads = this.reads.then(() => {
      const seen = Math.max(this.cursor, this.ackedServerMax)
      if (head < seen) {
        this.ctx.alert({
          kind: 'rollback',
          doc: this.name,
          message: `the relay's log for this doc ends at ${head}, but this device already saw it reach ${seen}: it serves an older state`,
          evidence: { relayHead: head, deviceCursor: this.cursor, acknowledgedUpTo: this.ackedServerMax },
        })
      }
      this.caughtUp = true
      this.advanceCursor(head)
      this.repair()
      this.ctx.changed()
    })
    return this.reads
  }

  /**
   * The relay stored every envelope of this doc up to `head`, and sent each
   * one to this device. Envelopes it sends before storing them (early
   * fan-out, serverSeq 0) never move the cursor: only this does, so a relay
   * that crashes before storing them is not mistaken for one that rolled
   * back. Stored at once (markers come at most every 50 ms or so per doc),
   * so a restarted device still knows how far the relay had stored.
   */
  storedUpTo(head: number, heads: readonly { deviceId: Uint8Array; seq: number }[]): Promise<void> {
    this.reads = this.reads.then(async () => {
      for (const h of heads) this.confirm(toHex(h.deviceId), h.seq)
      // A hole asked for while the relay was still storing what names it is asked for again now.
      if (this.caughtUp && heads.length > 0) this.repair()
      if (head <= this.cursor) return
      await this.ctx.store.addReceived(this.key, [], head)
      this.advanceCursor(head)
    })
    return this.reads
  }

  /** Asks the relay for envelopes known to exist that this device lacks. */
  private repair(): void {
    for (const r of this.integrity.missing()) {
      if (!this.ctx.send({ type: 'fetchSeqs', docId: this.docId, deviceId: fromHex(r.author), from: r.from, to: r.to })) return
      this.integrity.pendingFetches++
    }
  }

  /** The relay finished answering a fetchSeqs. */
  fetched(author: string, from: number, to: number, count: number): Promise<void> {
    this.reads = this.reads.then(() => {
      this.integrity.fetched(author, from, to, count)
      this.ctx.changed()
    })
    return this.reads
  }

  /**
   * Seals a checkpoint of what this device has seen (membership head, each
   * author's chain head) when it changed since the last one. Read-only
   * devices cannot write, so they only compare others' checkpoints.
   */
  async checkpoint(force = false): Promise<boolean> {
    const self = this.ctx.membership.self()
    const state = this.ctx.membership.state
    if (!self || !state || !hasScope(self, Scope.write)) return false
    const heads = this.chains
      .authorIds()
      .map((author) => ({ author: fromHex(author), ...this.storedHead(author) }))
      .filter((h) => h.seq > 0)
    const body = encodeCheckpoint({ ops: { index: state.index, hash: state.hash }, heads: heads.map((h) => ({ author: h.author, seq: h.seq, hash: h.hash })) })
    // What it states, without the writer's own checkpoints moving its head.
    const digest = toHex(encodeCheckpoint({ ops: { index: state.index, hash: state.hash }, heads: heads.filter((h) => toHex(h.author) !== this.ctx.identity.id) }))
    if (digest === this.lastCheckpoint && !force) return false
    this.lastCheckpoint = digest
    this.writes = this.writes.then(async () => {
      await this.sealKind(EnvelopeKind.checkpoint, body)
    })
    await this.writes
    return true
  }

  /** Verifies, orders and applies envelopes from the relay, then stores them with the new cursor in one write. */
  receive(items: StoredEnvelope[]): Promise<void> {
    this.reads = this.reads.then(() => this.receiveNow(items))
    return this.reads
  }

  private async receiveNow(items: StoredEnvelope[]): Promise<void> {
    const accepted: LocalEnvelope[] = []
    const updates: Uint8Array[] = []
    const snapshots: Envelope[] = []
    let cursor = this.cursor
    const decoded = items.map((item): Decoded | Error => {
      try {
        const env = decodeEnvelope(item.envelope)
        return { env, hash: envelopeHash(env), author: toHex(env.header.deviceId) }
      } catch (e) {
        return e as Error
      }
    })
    const { membership, identity } = this.ctx
    const authentic = authenticate(
      decoded.map((d) => (d instanceof Error ? undefined : d)),
      (deviceId) => membership.member(deviceId)?.signPub,
      ({ env, hash, author }) => {
        const key = env.tagBytes.length > 0 ? membership.pairKey(env.header.deviceId, env.header.epoch, author) : undefined
        return key !== undefined && hasValidTag(env, hash, identity.deviceId, key)
      },
    )
    for (const [i, item] of items.entries()) {
      cursor = Math.max(cursor, item.serverSeq)
      const d = decoded[i] as Decoded | Error
      const result = d instanceof Error ? { code: 'E_BAD_FRAME' as const, message: d.message } : this.check(d, authentic[i] === true)
      // Served with a serverSeq: the relay stored it (a duplicate of one sent early confirms that one).
      if (item.serverSeq > 0 && !(d instanceof Error) && (result === 'duplicate' || !('code' in result))) {
        this.confirmStored(d.author, d.env.header)
        this.checkServerSeq(item.serverSeq, d)
      }
      if (result === 'duplicate') continue
      if ('code' in result) {
        // The same bad envelope served again (a repair fetch) is not news; another one at the same serverSeq is.
        const seen = `${item.serverSeq}:${toHex(item.envelope.subarray(-16))}`
        if (!this.rejectedAt.has(seen)) {
          this.ctx.rejected({ doc: this.name, origin: 'received', serverSeq: item.serverSeq, ...result })
          // Signed by its author: evidence to keep (checked here, as a receiver tag proves nothing to others).
          if (result.code === 'E_EQUIVOCATION' && this.signedByAuthor(d as Decoded)) this.ctx.alert({ kind: 'equivocation', doc: this.name, author: result.author, message: result.message, evidence: { seq: result.seq, serverSeq: item.serverSeq, envelope: toHex(item.envelope) } })
        }
        this.rejectedAt.add(seen)
        continue
      }
      const { env, hash, plaintext } = result
      const { author } = d as Decoded
      this.chains.add(author, env.header.seq, env.header.prevHash, hash)
      accepted.push({ author, seq: env.header.seq, serverSeq: item.serverSeq > 0 ? item.serverSeq : null, envelope: item.envelope })
      this.sinceSnapshot.note(env, item.envelope.length)
      if (env.header.kind === EnvelopeKind.snapshot) {
        snapshots.push(env)
        for (const c of env.header.covers ?? []) this.chains.cover(toHex(c.deviceId), c.seq, c.hash)
      }
      if (!plaintext) continue
      if (CONTENT_KINDS.has(env.header.kind)) updates.push(plaintext)
      else if (env.header.kind === EnvelopeKind.checkpoint && author !== this.ctx.identity.id) this.compareCheckpoint(author, plaintext)
    }
    // Shown before it is stored: a durable store's write waits for a disk sync (or an
    // IndexedDB commit), and the cursor moves only once it is done, so an app that stops
    // in between fetches these again. 'synced' waits for the write.
    this.applyUpdates(updates)
    await this.ctx.store.addReceived(this.key, accepted, cursor)
    this.advanceCursor(cursor)
    if (updates.length > 0) this.ctx.changed()
    for (const env of snapshots) await this.compactWith(env)
    if (this.caughtUp) this.repair()
  }

  /** The relay's log moved on to `to`. */
  private advanceCursor(to: number): void {
    if (to > this.cursor) this.cursor = to
  }

  /** An authentic envelope served at a serverSeq the relay gave one of this device's own: the same one, or a fork. */
  private checkServerSeq(serverSeq: number, { env, author }: Decoded): void {
    const ownSeq = this.ownAt.get(serverSeq)
    if (ownSeq === undefined) return
    const self = this.ctx.identity.id
    if (author === self && env.header.seq === ownSeq) return
    // A resend of an envelope a snapshot had pruned is acknowledged with the snapshot's serverSeq.
    if (env.header.kind === EnvelopeKind.snapshot && env.header.covers?.some((c) => toHex(c.deviceId) === self && c.seq >= ownSeq)) return
    this.ctx.alert({
      kind: 'fork',
      doc: this.name,
      message: `the relay acknowledged this device's envelope ${ownSeq} as its entry ${serverSeq}, but now serves envelope ${env.header.seq} of ${author} there: it shows devices different histories`,
      evidence: { serverSeq, ownSeq, servedAuthor: author, servedSeq: env.header.seq },
    })
  }

  private signedByAuthor({ env }: Decoded): boolean {
    const member = this.ctx.membership.member(env.header.deviceId)
    return member !== undefined && verifyEnvelope(env, member.signPub)
  }

  private compareCheckpoint(author: string, plaintext: Uint8Array): void {
    try {
      const cp = decodeCheckpoint(plaintext)
      // A member states only heads the relay told it are stored.
      for (const h of cp.heads) this.confirm(toHex(h.author), h.seq)
      this.integrity.compare(author, cp)
    } catch (e) {
      this.ctx.rejected({ doc: this.name, origin: 'received', code: 'E_BAD_FRAME', message: `checkpoint of ${author}: ${(e as Error).message}`, author })
    }
  }

  /** `authentic`: a receiver tag for this device checked, the signature verified, or a later envelope of the author vouches for this one (vouch.ts). */
  private check({ env, hash, author }: Decoded, authentic: boolean): 'duplicate' | { code: ErrorCode; message: string; author?: string; seq?: number } | { env: Envelope; hash: Uint8Array; plaintext?: Uint8Array } {
    const h = env.header
    const where = { author, seq: h.seq }
    const { membership } = this.ctx
    if (!sameBytes(h.vaultId, membership.state?.vaultId ?? new Uint8Array(0)) || !sameBytes(h.docId, this.docId)) {
      return { code: 'E_MISROUTED', message: 'envelope belongs to another vault or doc', ...where }
    }
    const member = membership.member(h.deviceId, author)
    if (!member) return { code: 'E_NOT_MEMBER', message: `author ${author} is not a member of this vault`, ...where }
    if (member.removedIndex !== undefined) {
      const removedAtEpoch = membership.ops[member.removedIndex]?.epoch ?? 0
      if (h.epoch >= removedAtEpoch) return { code: 'E_REVOKED', message: `author ${author} was removed before epoch ${h.epoch}`, ...where }
    }
    if (!hasScope(member, Scope.write)) return { code: 'E_SCOPE', message: `author ${author} may only read`, ...where }
    if (!authentic) return { code: 'E_FORGED', message: `signature of ${author} seq ${h.seq} does not verify: modified or forged`, ...where }
    const last = member.removedIndex === undefined ? undefined : membership.removalHeads(h.deviceId)?.[this.key]
    if (last && h.seq > last[0]) return { code: 'E_REVOKED', message: `author ${author} was removed after its envelope ${last[0]}; seq ${h.seq} came later`, ...where }
    if (last && h.seq === last[0] && toHex(hash) !== last[1]) {
      return { code: 'E_EQUIVOCATION', message: `envelope ${h.seq} of removed author ${author} is not the one its removal recorded`, ...where }
    }
    const verdict = this.chains.check(author, h.seq, h.prevHash, hash)
    if (!verdict.ok) return { code: verdict.code, message: verdict.message, ...where }
    if (verdict.duplicate) return 'duplicate'
    if (h.covers) {
      const own = h.covers.find((c) => sameBytes(c.deviceId, h.deviceId))
      if (own && own.seq === h.seq - 1 && !sameBytes(own.hash, h.prevHash)) return { code: 'E_CHAIN', message: `snapshot ${h.seq} of ${author} covers an envelope ${own.seq} it does not follow`, ...where }
      if (own && own.seq >= h.seq) return { code: 'E_CHAIN', message: `snapshot ${h.seq} of ${author} claims to cover its own later envelope ${own.seq}`, ...where }
      for (const c of h.covers) {
        const other = toHex(c.deviceId)
        const held = this.chains.at(other, c.seq)
        if (held && !sameBytes(held.hash, c.hash)) {
          // Signed by a member: this device and the snapshot's author hold different envelopes at one seq.
          this.ctx.alert({ kind: 'fork', doc: this.name, author: other, message: `snapshot ${h.seq} of ${author} covers another envelope ${c.seq} of ${other} than the one this device holds`, evidence: { seq: c.seq, snapshotBy: author, theirs: toHex(c.hash), ours: toHex(held.hash) } })
          return { code: 'E_CHAIN', message: `snapshot ${h.seq} of ${author} covers a different envelope ${c.seq} of ${other}`, ...where }
        }
      }
    }
    if (h.kind === EnvelopeKind.awareness) return { env, hash }
    const key = membership.derivedKey(h.epoch, 'envelope')
    if (!key) return { code: 'E_UNKNOWN_EPOCH', message: `no key for epoch ${h.epoch}`, ...where }
    try {
      const plaintext = openEnvelope(env, key)
      return { env, hash, plaintext: h.kind === EnvelopeKind.snapshot ? decodeSnapshotBody(plaintext) : plaintext }
    } catch (e) {
      if (isMindsyncError(e)) return { code: e.code, message: e.message, ...where }
      throw e
    }
  }

  /** The highest envelope of an author this device holds (seq 0 when none). */
  lastEnvelopeOf(author: string): { seq: number; hash: Uint8Array } {
    return this.chains.head(author)
  }

  /** The relay refused one of this device's envelopes. */
  refused(code: string, message: string, seq: number): void {
    this.answered()
    if (code === 'E_CHAIN' && seq - 1 <= this.ackedMax) {
      // The relay once acknowledged what it now lacks: it was rolled back. Send this device's chain again to repair it.
      this.ctx.alert({
        kind: 'rollback',
        doc: this.name,
        message: `the relay lost envelopes it had acknowledged (it refused seq ${seq}: ${message}; it had acknowledged up to ${this.ackedMax})`,
        evidence: { refusedSeq: seq, acknowledgedUpTo: this.ackedMax },
      })
      void this.resendOwn()
      return
    }
    if (code === 'E_STALE_EPOCH') {
      // A refusal of an envelope since acknowledged is an old answer repeated: nothing to seal again.
      if (!this.outbox.has(seq)) return
      const epoch = this.ctx.membership.state?.epoch ?? 0
      if (this.resealedFrom === undefined || seq < this.resealedFrom || epoch > this.resealedEpoch) void this.resealFrom(seq)
      return
    }
    // The envelopes after one being sealed again are refused until it arrives: expected, not news.
    if (code === 'E_CHAIN' && this.resealedFrom !== undefined && seq > this.resealedFrom) return
    this.ctx.rejected({ doc: this.name, origin: 'relay', code: (code || 'E_FORBIDDEN') as ErrorCode, message: `relay refused envelope ${seq}: ${message}`, seq })
  }

  /**
   * Changes sealed while this device did not yet know of a removal are under
   * an epoch the removed device can read, and the relay refuses them
   * (E_STALE_EPOCH) without storing them: seal them again under the current
   * epoch, from the refused seq on (the relay stores nothing after a refused
   * seq either), and send them again.
   */
  private resealFrom(seq: number): Promise<void> {
    this.resealedFrom = seq
    this.resealedEpoch = this.ctx.membership.state?.epoch ?? 0
    this.writes = this.writes.then(async () => {
      const { membership, identity } = this.ctx
      const state = membership.state
      const key = state && membership.derivedKey(state.epoch, 'envelope')
      if (!state || !key) return
      const outbox = (await this.ctx.store.listOutbox(this.key)).filter((o) => o.seq >= seq)
      const first = outbox[0]?.seq ?? seq
      let prevHash = this.chains.at(identity.id, first - 1)?.hash ?? ZERO_HASH
      const rewritten = outbox.map((o) => {
        const old = decodeEnvelope(o.envelope)
        if (old.header.epoch === state.epoch && sameBytes(old.header.prevHash, prevHash)) {
          // Already sealed under this epoch (a repeated or late refusal): sent again as it is, never
          // sealed twice, or the relay could hold one version and this device another.
          prevHash = envelopeHash(old)
          return { seq: o.seq, envelope: o.envelope }
        }
        const oldKey = membership.derivedKey(old.header.epoch, 'envelope')
        if (!oldKey) throw new MindsyncError('E_UNKNOWN_EPOCH', `no key to seal own envelope ${o.seq} again`)
        const sealed = sealEnvelope({ ...old.header, epoch: state.epoch, prevHash, key, signer: identity.signer, plaintext: openEnvelope(old, oldKey) })
        const hash = envelopeHash(sealed)
        const env = this.tagged(sealed, hash)
        this.chains.add(identity.id, o.seq, prevHash, hash)
        prevHash = hash
        return { seq: o.seq, envelope: env.bytes }
      })
      if (rewritten.length === 0) return
      await this.ctx.store.rewriteOutbox(this.key, rewritten)
      if ((rewritten[rewritten.length - 1] as { seq: number }).seq === this.mySeq) this.myHash = prevHash
      // Through the push window, in place of any older bytes of those seqs still waiting there.
      this.unsent = [...this.unsent.filter((u) => u.seq < seq), ...rewritten]
      this.pump()
    })
    return this.writes
  }

  private resendOwn(): Promise<void> {
    this.writes = this.writes.then(async () => {
      const own = (await this.ctx.store.listEnvelopes(this.key)).filter((e) => e.author === this.ctx.identity.id).sort((a, b) => a.seq - b.seq)
      for (const e of own) this.outbox.add(e.seq)
      const queued = new Set(this.unsent.map((u) => u.seq))
      this.unsent = [...own.filter((e) => !queued.has(e.seq)).map((e) => ({ seq: e.seq, envelope: e.envelope })), ...this.unsent].sort((a, b) => a.seq - b.seq)
      this.pump()
    })
    return this.writes
  }

  /** Gaps in authors' chains: envelopes known to exist that this device has not received. */
  gaps(): { author: string; from: number; to: number }[] {
    return this.chains.gaps()
  }

  destroy(): void {
    this.doc.off('beforeTransaction', this.onBeforeTransaction)
    this.doc.off('afterAllTransactions', this.onAfterAllTransactions)
    this.doc.off('update', this.onUpdate)
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.cancelTurn?.()
  }
}
