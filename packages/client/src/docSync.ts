import { fromHex, toHex } from '@mindsync/crypto'
import { EnvelopeKind, Scope, ZERO_HASH, decodeEnvelope, envelopeHash, hasScope, hasValidTag, openEnvelope, verifyEnvelope } from '@mindsync/protocol'
import type { CoveredHead, Envelope, StoredEnvelope } from '@mindsync/protocol'
import * as Y from 'yjs'
import { ChainTracker } from './chain.js'
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.js'
import type { DocContext } from './docContext.js'
import { IntegrityCheck } from './integrity.js'
import type { LocalEnvelope } from './localStore.js'
import { Outgoing } from './outgoing.js'
import { CONTENT_KINDS, checkReceived, contentOf } from './receivedCheck.js'
import type { CheckScope } from './receivedCheck.js'
import { SerialQueue } from './serialQueue.js'
import { SinceSnapshot } from './sinceSnapshot.js'
import { encodeSnapshotBody } from './snapshotBody.js'
import { authenticate } from './vouch.js'
import type { Decoded } from './vouch.js'

/**
 * One Yjs document bound to one vault doc: its own changes go out through
 * an Outgoing (sealed, signed, kept in the outbox until acknowledged); what
 * arrives is verified (receivedCheck.ts), ordered by each author's chain,
 * applied, stored, and checked for what the relay withholds or rewrites.
 */
export class DocSync {
  readonly key: string
  /** Work on what the relay sent, in order (a failed step does not stop the ones after it). */
  private readonly reads = new SerialQueue()
  private readonly chains = new ChainTracker()
  private readonly out: Outgoing
  private cursor = 0
  private lastCheckpoint = ''
  private readonly rejectedAt = new Set<string>()
  private readonly integrity: IntegrityCheck
  private readonly scope: CheckScope
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
  private readonly sinceSnapshot = new SinceSnapshot()
  /**
   * Received envelopes already applied whose store write failed. The doc and
   * the chains hold them, so when the relay serves them again they are
   * duplicates: they are written with the next write instead, ahead of what
   * it carries, and the cursor stays before them until then.
   */
  private unstored: LocalEnvelope[] = []
  /** Received snapshots whose envelopes are not yet stored: what they cover is dropped from the store once they are. */
  private uncompacted: Envelope[] = []
  caughtUp = false

  constructor(
    readonly name: string,
    readonly docId: Uint8Array,
    readonly doc: Y.Doc,
    private readonly ctx: DocContext,
  ) {
    this.key = toHex(docId)
    this.integrity = new IntegrityCheck(name, this.chains, ctx.membership, (a) => ctx.alert(a), (author) => this.confirmed.get(author) ?? 0)
    this.scope = { name, docId, key: this.key, membership: ctx.membership, chains: this.chains, alert: (a) => ctx.alert(a) }
    this.out = new Outgoing(this, ctx, this.chains, {
      sealed: (env) => this.sinceSnapshot.note(env, env.bytes.length),
      acknowledged: (seq) => this.confirm(ctx.identity.id, seq),
    })
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
      if (item.author === this.ctx.identity.id) this.out.restore(item, hash)
      if (item.serverSeq !== null) this.confirmStored(item.author, env.header)
      this.sinceSnapshot.note(env, item.envelope.length)
      const key = this.ctx.membership.derivedKey(env.header.epoch, 'envelope')
      if (key && CONTENT_KINDS.has(env.header.kind)) updates.push(contentOf(env, openEnvelope(env, key)))
    }
    this.applyUpdates(updates)
    if (updates.length > 0) this.ctx.changed()
    this.cursor = await this.ctx.store.getCursor(this.key)
    await this.out.start()
  }

  /** Applies received or stored updates in one transaction (this DocSync as their origin, which Outgoing does not seal); the caller tells the client once they are also stored. */
  private applyUpdates(updates: Uint8Array[]): void {
    if (updates.length === 0) return
    Y.transact(this.doc, () => {
      for (const u of updates) Y.applyUpdate(this.doc, u, this)
    }, this)
  }

  /** Seals every local update made so far into one envelope and stores it in the outbox. */
  flush(): Promise<void> {
    return this.out.flush()
  }

  /**
   * Seals the whole merged state as a snapshot covering, per author, every
   * envelope this device holds without a hole; the relay then prunes what it
   * covers and a new device starts from it. Old data is sealed again under
   * the current epoch. Drops the covered envelopes from the local store.
   */
  snapshot(): Promise<boolean> {
    this.out.flushOrReport()
    let wrote = false
    const done = this.out.enqueue(async () => {
      const covers: CoveredHead[] = []
      for (const author of this.chains.authorIds()) {
        const h = this.storedHead(author)
        if (h.seq > 0) covers.push({ deviceId: fromHex(author), seq: h.seq, hash: h.hash })
      }
      const env = await this.out.seal(EnvelopeKind.snapshot, encodeSnapshotBody(Y.encodeStateAsUpdate(this.doc)), covers)
      if (!env) return
      wrote = true
      await this.compactWith(env)
    })
    return done.then(() => wrote)
  }

  /** Writes a snapshot when the envelopes since the last one pass the policy, or old epochs' data could be sealed again. */
  async snapshotIfDue(): Promise<boolean> {
    // A read-only device cannot write one (and would report that on every sync).
    const self = this.ctx.membership.self()
    if (!self || !hasScope(self, Scope.write)) return false
    return this.sinceSnapshot.due(this.ctx.snapshotEvery, this.ctx.membership.state?.epoch ?? 0) ? this.snapshot() : false
  }

  /** Drops the local envelopes a snapshot this device holds covers. */
  private async compactWith(env: Envelope): Promise<void> {
    const covers = (env.header.covers ?? []).map((c) => ({ author: toHex(c.deviceId), seq: c.seq }))
    await this.ctx.store.compact(this.key, { author: toHex(env.header.deviceId), seq: env.header.seq }, covers)
    const own = covers.find((c) => c.author === this.ctx.identity.id)
    if (own) this.out.compacted(own.seq)
  }

  /** Called once the connection is ready: subscribe from the cursor and resend the outbox. */
  async connected(): Promise<void> {
    this.caughtUp = false
    this.integrity.reset()
    await this.out.connected(() => this.ctx.send({ type: 'subscribe', docId: this.docId, cursor: this.cursor }))
  }

  disconnected(): void {
    this.caughtUp = false
    this.out.disconnected()
  }

  /** True when everything local reached the relay and everything on the relay reached this device. */
  get settled(): boolean {
    return this.caughtUp && this.out.empty && this.integrity.pendingFetches === 0 && this.unstored.length === 0
  }

  /** Why the doc is not settled, for an error message ('' when it is). */
  unsettled(): string {
    const why: string[] = []
    if (!this.caughtUp) why.push('not caught up')
    why.push(...this.out.unsettled())
    if (this.integrity.pendingFetches > 0) why.push(`${this.integrity.pendingFetches} repair fetch(es) unanswered`)
    if (this.unstored.length > 0) why.push(`${this.unstored.length} received envelope(s) not stored yet`)
    return why.length === 0 ? '' : `${this.name}: ${why.join(', ')}`
  }

  get outboxSize(): number {
    return this.out.size
  }

  acknowledged(seq: number, serverSeq: number): Promise<void> {
    return this.out.acknowledged(seq, serverSeq)
  }

  /** The relay refused one of this device's envelopes. */
  refused(code: string, message: string, seq: number): void {
    this.out.refused(code, message, seq)
  }

  caughtUpTo(head: number): Promise<void> {
    return this.reads.run(() => {
      const seen = Math.max(this.cursor, this.out.ackedServerMax)
      if (head < seen) {
        this.ctx.alert({
          kind: 'rollback',
          doc: this.name,
          message: `the relay's log for this doc ends at ${head}, but this device already saw it reach ${seen}: it serves an older state`,
          evidence: { relayHead: head, deviceCursor: this.cursor, acknowledgedUpTo: this.out.ackedServerMax },
        })
      }
      this.caughtUp = true
      this.advanceCursor(head)
      this.repair()
      this.ctx.changed()
    })
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
    return this.reads.run(async () => {
      for (const h of heads) this.confirm(toHex(h.deviceId), h.seq)
      // A hole asked for while the relay was still storing what names it is asked for again now.
      if (this.caughtUp && heads.length > 0) this.repair()
      if (head <= this.cursor) return
      const repaired = await this.storeReceived([], head)
      this.advanceCursor(head)
      if (repaired) this.ctx.changed()
      await this.compactReceived()
    })
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
    return this.reads.run(() => {
      this.integrity.fetched(author, from, to, count)
      this.ctx.changed()
    })
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
    await this.out.enqueue(async () => {
      await this.out.seal(EnvelopeKind.checkpoint, body)
    })
    return true
  }

  /** Verifies, orders and applies envelopes from the relay, then stores them with the new cursor in one write. */
  receive(items: StoredEnvelope[]): Promise<void> {
    return this.reads.run(() => this.receiveNow(items))
  }

  private async receiveNow(items: StoredEnvelope[]): Promise<void> {
    const accepted: LocalEnvelope[] = []
    const updates: Uint8Array[] = []
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
      const result = d instanceof Error ? { code: 'E_BAD_FRAME' as const, message: d.message } : checkReceived(this.scope, d, authentic[i] === true)
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
        this.uncompacted.push(env)
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
    const repaired = await this.storeReceived(accepted, cursor)
    this.advanceCursor(cursor)
    if (updates.length > 0 || repaired) this.ctx.changed()
    // Most batches bring no snapshot: no await (a microtask per batch) for nothing to compact.
    if (this.uncompacted.length > 0) await this.compactReceived()
    if (this.caughtUp) this.repair()
  }

  /**
   * Stores received envelopes with the new cursor in one write, after any an
   * earlier write failed to store. True when it stored such: the doc may be
   * settled now, though this write brought nothing new to show.
   */
  private async storeReceived(accepted: LocalEnvelope[], cursor: number): Promise<boolean> {
    const repaired = this.unstored.length > 0
    const items = repaired ? [...this.unstored, ...accepted] : accepted
    try {
      await this.ctx.store.addReceived(this.key, items, cursor)
    } catch (e) {
      this.unstored = items
      throw e
    }
    this.unstored = []
    return repaired
  }

  /** Drops from the store what received snapshots cover, once they are stored themselves. */
  private async compactReceived(): Promise<void> {
    if (this.unstored.length > 0) return
    const snapshots = this.uncompacted
    this.uncompacted = []
    for (const env of snapshots) await this.compactWith(env)
  }

  /** The relay's log moved on to `to`. */
  private advanceCursor(to: number): void {
    if (to > this.cursor) this.cursor = to
  }

  /** An authentic envelope served at a serverSeq the relay gave one of this device's own: the same one, or a fork. */
  private checkServerSeq(serverSeq: number, { env, author }: Decoded): void {
    const ownSeq = this.out.ownAt.get(serverSeq)
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

  /** The highest envelope of an author this device holds (seq 0 when none). */
  lastEnvelopeOf(author: string): { seq: number; hash: Uint8Array } {
    return this.chains.head(author)
  }

  /** Gaps in authors' chains: envelopes known to exist that this device has not received. */
  gaps(): { author: string; from: number; to: number }[] {
    return this.chains.gaps()
  }

  destroy(): void {
    this.out.destroy()
  }
}
