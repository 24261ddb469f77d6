import {
  EnvelopeKind,
  MindsyncError,
  Scope,
  ZERO_HASH,
  decodeEnvelope,
  envelopeHash,
  hasScope,
  openEnvelope,
  receiverTag,
  sameBytes,
  sealEnvelope,
  withTags,
} from '@mindsync/protocol'
import type { CoveredHead, Envelope, ErrorCode, Member, ReceiverTag } from '@mindsync/protocol'
import * as Y from 'yjs'
import type { ChainTracker } from './chain.js'
import type { DocContext } from './docContext.js'
import type { LocalEnvelope, OutboxEntry } from './localStore.js'
import { SerialQueue } from './serialQueue.js'

/** Own envelopes awaiting the relay's answer at most; the rest wait their turn. */
const PUSH_WINDOW = 512
/** A push of fewer envelopes reports no progress. */
const PROGRESS_FROM = 200

/**
 * Runs `fn` in a microtask: once the code that made this task's changes is
 * done, before the event loop reads any socket or runs any timer. Returns a
 * function that cancels the call.
 */
function atEndOfTask(fn: () => void): () => void {
  let live = true
  queueMicrotask(() => {
    if (live) fn()
  })
  return () => {
    live = false
  }
}

/** The doc whose own changes an Outgoing carries. */
export interface OutgoingDoc {
  name: string
  docId: Uint8Array
  /** Hex doc id, the store's key. */
  key: string
  doc: Y.Doc
}

/** What the doc learns from its own envelopes. */
export interface OutgoingHooks {
  /** An own envelope was sealed and stored in the outbox. */
  sealed(env: Envelope): void
  /** The relay acknowledged own envelope `seq`: it stored the chain up to it. */
  acknowledged(seq: number): void
}

/**
 * This device's own envelopes of one doc, from the local change to the
 * relay's answer: batches the changes of a turn, seals, signs and tags them,
 * keeps them in the outbox until acknowledged, pushes them through a window,
 * and seals them again when the relay refuses an old epoch.
 */
export class Outgoing {
  private pending: Uint8Array[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  /** Cancels the flush queued for the end of this task, when there is one. */
  private cancelQueued: (() => void) | undefined
  /** Every store write of own envelopes, in order; the doc queues its snapshots and checkpoints here too (enqueue). */
  private readonly writes = new SerialQueue()
  private mySeq = 0
  private myHash: Uint8Array = ZERO_HASH
  /** Own seqs sealed and not yet acknowledged. */
  private readonly outbox = new Set<number>()
  /** Own envelopes still to push on this connection, in seq order, and how many await an answer. */
  private unsent: OutboxEntry[] = []
  private inFlight = 0
  /** When the last push went (performance.now()): changes are held for an answer at most batchMs after it. */
  private lastPushAt = -Infinity
  private online = false
  private pushed = 0
  private pushTotal = 0
  /** The lowest own seq sealed again after a removal (see resealFrom). */
  private resealedFrom: number | undefined
  /** The epoch those were sealed under: a refusal after a newer epoch arrived seals them again. */
  private resealedEpoch = -1
  private recipients: { members: readonly Member[]; epoch: number; list: { deviceId: Uint8Array; key: Uint8Array }[] } | undefined
  /** Highest own seq the relay acknowledged: a relay that later lacks it rolled back. */
  ackedMax = 0
  /** Highest serverSeq the relay gave an own envelope: its log cannot end before it. */
  ackedServerMax = 0
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
  readonly ownAt = new Map<number, number>()

  constructor(
    private readonly d: OutgoingDoc,
    private readonly ctx: DocContext,
    private readonly chains: ChainTracker,
    private readonly hooks: OutgoingHooks,
  ) {}

  /**
   * When to seal local changes: at the end of the task that made them,
   * unless a push of this doc went less than batchMs ago and awaits its
   * answer; those are held until the answers are in, or until batchMs after
   * that push — the way TCP's Nagle algorithm holds small segments while
   * one is unacknowledged. A device writing now and then sends each change
   * at once; one writing in a burst merges what accumulates while the relay
   * works, so one signature and one envelope cover many changes exactly
   * when the devices have the least time for each. The deadline counts from
   * the push, not from the change: the relay answers a push only after its
   * group commit, so a change made 10 ms after the last one would otherwise
   * often wait out the whole batchMs, on a timer a busy loop fires late.
   * "At once" is a microtask, not the next turn: on a busy device the next
   * turn comes only after the loop has read and handled every socket that
   * has data, several milliseconds under load, and the change waited for
   * all of it (bench README, item 16).
   */
  private readonly onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === this.d) return
    this.pending.push(update)
    this.scheduleFlush()
  }
  private scheduleFlush(): void {
    if (this.pending.length === 0 || this.cancelQueued !== undefined) return
    const holdMs = this.inFlight === 0 || !this.online ? 0 : this.lastPushAt + this.ctx.batchMs - performance.now()
    if (holdMs <= 0) {
      if (this.timer !== undefined) clearTimeout(this.timer)
      this.timer = undefined
      this.cancelQueued = atEndOfTask(() => {
        this.cancelQueued = undefined
        this.flushOrReport()
      })
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flushOrReport(), holdMs)
    }
  }
  /**
   * Yjs encodes every transaction's update when anyone listens to 'update',
   * so the listener is attached only for transactions this engine did not
   * make (local changes, including those observers make while a received
   * update is applied), and detached once they are all done: applying
   * received updates costs no encoding. Received updates are applied with
   * the OutgoingDoc as their origin.
   */
  private listening = false
  private readonly onBeforeTransaction = (tr: Y.Transaction): void => {
    if (tr.origin === this.d || this.listening) return
    this.listening = true
    this.d.doc.on('update', this.onUpdate)
  }
  private readonly onAfterAllTransactions = (): void => {
    if (!this.listening) return
    this.listening = false
    this.d.doc.off('update', this.onUpdate)
  }

  /** An own envelope the store holds (at load). */
  restore(item: LocalEnvelope, hash: Uint8Array): void {
    if (item.seq > this.mySeq) {
      this.mySeq = item.seq
      this.myHash = hash
    }
    if (item.serverSeq === null) return
    this.ackedMax = Math.max(this.ackedMax, item.seq)
    this.ackedServerMax = Math.max(this.ackedServerMax, item.serverSeq)
    this.ownAt.set(item.serverSeq, item.seq)
  }

  /** Loads the outbox's seqs and starts listening for local changes. */
  async start(): Promise<void> {
    for (const o of await this.ctx.store.listOutbox(this.d.key)) this.outbox.add(o.seq)
    this.d.doc.on('beforeTransaction', this.onBeforeTransaction)
    this.d.doc.on('afterAllTransactions', this.onAfterAllTransactions)
  }

  /** Runs `work` after every store write queued so far, before any queued later. A failed one rejects to its caller; the ones after it still run. */
  enqueue(work: () => Promise<void>): Promise<void> {
    return this.writes.run(work)
  }

  /** Seals every local update made so far into one envelope and stores it in the outbox. */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.cancelQueued?.()
    this.timer = undefined
    this.cancelQueued = undefined
    if (this.pending.length === 0) return this.writes.idle()
    const updates = this.pending
    this.pending = []
    return this.enqueue(async () => {
      try {
        await this.seal(EnvelopeKind.update, updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates(updates))
      } catch (e) {
        // Not in the outbox, so not sealed (the seq did not move): kept for the next flush.
        this.pending = [...updates, ...this.pending]
        throw e
      }
    })
  }

  /** flush() for callers nobody awaits: a failure is reported as a rejection, and the changes wait for the next flush. */
  flushOrReport(): void {
    this.flush().catch((e: unknown) => this.report('local change not stored, kept to try again', e))
  }

  /** A store write nobody awaits failed: say so as a rejection. */
  private report(what: string, e: unknown): void {
    this.ctx.rejected({ doc: this.d.name, origin: 'local', code: 'E_INTERNAL', message: `${what}: ${e instanceof Error ? e.message : String(e)}` })
  }

  /** Seals the next own envelope, stores it in the outbox and pushes it when online; undefined (and a rejection) when this device may not write. Call it from enqueued work. */
  async seal(kind: EnvelopeKind, plaintext: Uint8Array, covers?: CoveredHead[]): Promise<Envelope | undefined> {
    const { membership, identity } = this.ctx
    const self = membership.self()
    const state = membership.state
    const key = state && membership.derivedKey(state.epoch, 'envelope')
    if (!self || !state || !key || !hasScope(self, Scope.write)) {
      const why = !self ? 'this device is not a member of the vault' : 'this device may only read'
      this.ctx.rejected({ doc: this.d.name, origin: 'local', code: self ? 'E_SCOPE' : 'E_NOT_MEMBER', message: `local change not synced: ${why}` })
      return undefined
    }
    const sealed = sealEnvelope({
      kind,
      vaultId: state.vaultId,
      docId: this.d.docId,
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
    await this.ctx.store.addLocal(this.d.key, { author: identity.id, seq: env.header.seq, envelope: env.bytes })
    this.mySeq = env.header.seq
    this.myHash = hash
    this.chains.add(identity.id, this.mySeq, env.header.prevHash, this.myHash)
    this.outbox.add(this.mySeq)
    this.hooks.sealed(env)
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

  /** The connection is ready: seals what is pending, lets `subscribe` go first, then pushes the outbox. */
  async connected(subscribe: () => void): Promise<void> {
    this.resealedFrom = undefined
    await this.flush()
    subscribe()
    // In the chain of writes, so no envelope is sealed between listing the outbox and going online.
    await this.enqueue(async () => {
      this.unsent = await this.ctx.store.listOutbox(this.d.key)
      this.inFlight = 0
      this.pushed = 0
      this.pushTotal = this.unsent.length
      this.online = true
      this.pump()
    })
  }

  disconnected(): void {
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
      this.lastPushAt = performance.now()
    }
  }

  /** The relay answered one push (acknowledged or refused): the next may go. */
  private answered(): void {
    if (this.inFlight > 0) this.inFlight--
    this.pushed++
    if (this.pushTotal >= PROGRESS_FROM) this.ctx.progress({ doc: this.d.name, phase: 'push', done: Math.min(this.pushed, this.pushTotal), total: this.pushTotal })
    this.pump()
    // Changes held while pushes were unanswered go as soon as the last answer is in.
    if (this.inFlight === 0) this.scheduleFlush()
  }

  /** Nothing sealed is unacknowledged and nothing changed is unsealed. */
  get empty(): boolean {
    return this.outbox.size === 0 && this.pending.length === 0
  }

  /** Envelopes not yet acknowledged, counting unsealed changes as one. */
  get size(): number {
    return this.outbox.size + (this.pending.length > 0 ? 1 : 0)
  }

  /** Why it is not empty, for an error message. */
  unsettled(): string[] {
    const why: string[] = []
    if (this.outbox.size > 0) why.push(`${this.outbox.size} envelope(s) unacknowledged (${this.inFlight} awaiting an answer, ${this.unsent.length} unsent)`)
    if (this.pending.length > 0) why.push('local changes not sealed yet')
    return why
  }

  acknowledged(seq: number, serverSeq: number): Promise<void> {
    this.answered()
    return this.enqueue(async () => {
      if (!this.outbox.has(seq)) return
      await this.ctx.store.acknowledge(this.d.key, seq, serverSeq)
      this.hooks.acknowledged(seq)
      this.outbox.delete(seq)
      this.ownAt.set(serverSeq, seq)
      this.ackedMax = Math.max(this.ackedMax, seq)
      this.ackedServerMax = Math.max(this.ackedServerMax, serverSeq)
      this.ctx.changed()
    })
  }

  /** A snapshot compacted own envelopes up to `seq`: they are no longer held. */
  compacted(seq: number): void {
    for (const [serverSeq, own] of this.ownAt) if (own <= seq) this.ownAt.delete(serverSeq)
  }

  /** The relay refused one of this device's envelopes. */
  refused(code: string, message: string, seq: number): void {
    this.answered()
    if (code === 'E_CHAIN' && seq - 1 <= this.ackedMax) {
      // The relay once acknowledged what it now lacks: it was rolled back. Send this device's chain again to repair it.
      this.ctx.alert({
        kind: 'rollback',
        doc: this.d.name,
        message: `the relay lost envelopes it had acknowledged (it refused seq ${seq}: ${message}; it had acknowledged up to ${this.ackedMax})`,
        evidence: { refusedSeq: seq, acknowledgedUpTo: this.ackedMax },
      })
      this.resendOwn().catch((e: unknown) => this.report('own envelopes not sent again to repair the relay', e))
      return
    }
    if (code === 'E_STALE_EPOCH') {
      // A refusal of an envelope since acknowledged is an old answer repeated: nothing to seal again.
      if (!this.outbox.has(seq)) return
      const epoch = this.ctx.membership.state?.epoch ?? 0
      if (this.resealedFrom === undefined || seq < this.resealedFrom || epoch > this.resealedEpoch) this.resealFrom(seq).catch((e: unknown) => this.report(`own envelopes from ${seq} not sealed again`, e))
      return
    }
    // The envelopes after one being sealed again are refused until it arrives: expected, not news.
    if (code === 'E_CHAIN' && this.resealedFrom !== undefined && seq > this.resealedFrom) return
    this.ctx.rejected({ doc: this.d.name, origin: 'relay', code: (code || 'E_FORBIDDEN') as ErrorCode, message: `relay refused envelope ${seq}: ${message}`, seq })
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
    return this.enqueue(async () => {
      const { membership, identity } = this.ctx
      const state = membership.state
      const key = state && membership.derivedKey(state.epoch, 'envelope')
      if (!state || !key) return
      const outbox = (await this.ctx.store.listOutbox(this.d.key)).filter((o) => o.seq >= seq)
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
      await this.ctx.store.rewriteOutbox(this.d.key, rewritten)
      if ((rewritten[rewritten.length - 1] as { seq: number }).seq === this.mySeq) this.myHash = prevHash
      // Through the push window, in place of any older bytes of those seqs still waiting there.
      this.unsent = [...this.unsent.filter((u) => u.seq < seq), ...rewritten]
      this.pump()
    })
  }

  private resendOwn(): Promise<void> {
    return this.enqueue(async () => {
      const own = (await this.ctx.store.listEnvelopes(this.d.key)).filter((e) => e.author === this.ctx.identity.id).sort((a, b) => a.seq - b.seq)
      for (const e of own) this.outbox.add(e.seq)
      const queued = new Set(this.unsent.map((u) => u.seq))
      this.unsent = [...own.filter((e) => !queued.has(e.seq)).map((e) => ({ seq: e.seq, envelope: e.envelope })), ...this.unsent].sort((a, b) => a.seq - b.seq)
      this.pump()
    })
  }

  destroy(): void {
    this.d.doc.off('beforeTransaction', this.onBeforeTransaction)
    this.d.doc.off('afterAllTransactions', this.onAfterAllTransactions)
    this.d.doc.off('update', this.onUpdate)
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.cancelQueued?.()
  }
}
