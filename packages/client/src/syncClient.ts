import { toHex } from '@mindsync/crypto'
import { MindsyncError, Scope, decodeEnvelope, decodeFrame, decodeOp, docIdOf, sameBytes } from '@mindsync/protocol'
import type { ClientMessage, RelayMessage, StoredEnvelope } from '@mindsync/protocol'
import type { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import { AlertLog } from './alerts.js'
import type { Alert } from './alerts.js'
import type { DeviceInfo, Status, SyncClientEvents, SyncClientOptions, SyncReport } from './clientTypes.js'
import { DocSync } from './docSync.js'
import { Emitter, Waiters } from './events.js'
import { decodeIdentity, encodeIdentity, generateIdentity, isWrapped, unwrapIdentity, wrapIdentity } from './identity.js'
import type { DeviceIdentity } from './identity.js'
import { Membership, genesisOp } from './membership.js'
import type { RemovalHeads } from './membership.js'
import { encodePairingCode, newPairingSecret } from './pairing.js'
import { catchRelayUp, proposeOp, takeOps } from './opsSync.js'
import type { OpsContext } from './opsSync.js'
import { Presence } from './presence.js'
import { RelayLink } from './relayLink.js'
import * as admin from './vaultAdmin.js'

export type { DeviceInfo, Status, SyncClientEvents, SyncClientOptions, SyncReport } from './clientTypes.js'
export { scopeNames } from './clientTypes.js'

const DAY_MS = 24 * 60 * 60 * 1000
const IDENTITY_KEY = 'identity'
const PAIRING_KEY = 'pairing-secret'

/**
 * The mindsync engine for one device: its keys, its verified membership log,
 * the docs bound to it, and the connection to the relay.
 *
 * @example
 * const client = await createSyncClient({ store: createMemoryStore(), transport, url: 'ws://127.0.0.1:8787' })
 * await client.createVault()
 * const doc = new Y.Doc()
 * await client.bind('journal', doc)
 * client.connect()
 */
export async function createSyncClient(options: SyncClientOptions): Promise<SyncClient> {
  const { store } = options
  let identity: DeviceIdentity
  const stored = await store.getMeta(IDENTITY_KEY)
  if (stored) {
    identity = decodeIdentity(isWrapped(stored) ? await unwrapIdentity(stored, options.passphrase) : stored)
    // A passphrase given for keys stored without one wraps them from now on.
    if (!isWrapped(stored) && options.passphrase !== undefined) await store.setMeta(IDENTITY_KEY, await wrapIdentity(stored, options.passphrase))
  } else {
    identity = generateIdentity(options.name ?? 'device')
    const plain = encodeIdentity(identity)
    await store.setMeta(IDENTITY_KEY, options.passphrase === undefined ? plain : await wrapIdentity(plain, options.passphrase))
  }
  const pairingSecret = await store.getMeta(PAIRING_KEY)
  const membership = new Membership(identity, pairingSecret)
  for (const bytes of await store.listOps()) membership.apply(decodeOp(bytes))
  const alerts = new AlertLog(store)
  await alerts.load()
  return new SyncClient(options, identity, membership, alerts)
}

export class SyncClient {
  private readonly events = new Emitter<SyncClientEvents>()
  private readonly docs = new Map<string, DocSync>()
  private readonly presences = new Map<string, Presence>()
  private readonly link: RelayLink
  private readonly ops: OpsContext
  private readonly opResults = new Waiters<RelayMessage & { type: 'opResult' }>()
  private inbound: Promise<void> = Promise.resolve()
  /** The last queued batch of received envelopes, while nothing was queued after it and it has not started. */
  private openBatch: { doc: string; items: StoredEnvelope[] } | undefined
  private readonly settledWaiters = new Set<() => void>()
  private readonly seenAnswers = new Waiters<RelayMessage & { type: 'seen' }>()
  private readonly now: () => number

  constructor(
    private readonly options: SyncClientOptions,
    readonly identity: DeviceIdentity,
    readonly membership: Membership,
    private readonly alertLog: AlertLog,
  ) {
    this.now = options.now ?? Date.now
    this.link = new RelayLink(options, identity, membership, this.events, {
      frame: (f) => this.onFrame(f),
      // From the last op this device holds, so a relay showing another op at that index is caught.
      opened: () => this.link.send({ type: 'hello', opsFrom: Math.max(0, this.membership.length - 1) }, true),
      reset: () => {
        this.openBatch = undefined
      },
      lost: (error) => {
        // Nobody waits forever for an answer a closed connection will not bring.
        this.opResults.rejectAll(error)
        this.seenAnswers.rejectAll(error)
        for (const d of this.docs.values()) d.disconnected()
      },
    })
    this.ops = {
      deviceId: identity.deviceId,
      membership,
      store: options.store,
      link: this.link,
      opResults: this.opResults,
      inbound: () => this.inbound,
      raise: (a) => this.raise(a),
      grew: (length) => this.events.emit('membership', { length }),
    }
  }

  get deviceId(): string {
    return this.identity.id
  }

  get vaultId(): string | undefined {
    const v = this.membership.vaultId
    return v && toHex(v)
  }

  get status(): Status {
    return this.link.status
  }

  on<K extends keyof SyncClientEvents>(name: K, listener: (e: SyncClientEvents[K]) => void): () => void {
    return this.events.on(name, listener)
  }

  /** Creates a new vault with this device as its first, admin member. Works offline; the relay learns of it on the next sync. */
  async createVault(): Promise<string> {
    if (this.membership.length > 0) throw new MindsyncError('E_INVALID_INPUT', 'this device already belongs to a vault')
    const op = genesisOp(this.identity, this.now())
    this.membership.apply(op)
    await this.options.store.putOps(0, [op.bytes])
    return toHex(op.vaultId)
  }

  /** A pairing code for this (new) device; a member admits it with acceptPairing(code). */
  async createPairingOffer(): Promise<string> {
    if (this.membership.self()) throw new MindsyncError('E_INVALID_INPUT', 'this device is already a member of a vault')
    let secret = await this.options.store.getMeta(PAIRING_KEY)
    if (!secret) {
      secret = newPairingSecret()
      await this.options.store.setMeta(PAIRING_KEY, secret)
    }
    this.membership.pairingSecret = secret
    return encodePairingCode({ signPub: this.identity.signPub, dhPub: this.identity.dhPub, secret, name: this.identity.name })
  }

  /** Admits the device that made `code` (needs admin and the relay). Returns its device id. */
  acceptPairing(code: string, scopes: number = Scope.read | Scope.write): Promise<string> {
    return admin.acceptPairing(this.admin, code, scopes)
  }

  /** Removes a device (needs admin and the relay): a new epoch starts whose key the removed device never gets. */
  removeDevice(id: string): Promise<void> {
    return admin.removeDevice(this.admin, id)
  }

  /** Opens a new epoch with a fresh key for every current device (needs admin and the relay). Returns the new epoch. */
  rotate(): Promise<number> {
    return admin.rotate(this.admin)
  }

  /** Rotates when the current epoch is older than rotateAfterMs (default 30 days) and this device is an admin. */
  rotateIfDue(): Promise<boolean> {
    return admin.rotateIfDue(this.admin, this.options.rotateAfterMs ?? 30 * DAY_MS)
  }

  /** Removes every other device (recovery codes stay valid). Returns the ids removed. */
  signOutOthers(): Promise<string[]> {
    return admin.signOutOthers(this.admin)
  }

  /** Creates a recovery code (needs admin and the relay); any earlier code stops working. Shown once, never stored. */
  createRecoveryCode(): Promise<string> {
    return admin.createRecoveryCode(this.admin)
  }

  /** The devices of the vault, for a dashboard; `lastSeen` from lastSeen(). */
  devices(lastSeen: Map<string, number> = new Map()): DeviceInfo[] {
    return admin.listDevices(this.membership, this.identity, lastSeen)
  }

  private get admin(): admin.AdminContext {
    return {
      membership: this.membership,
      identity: this.identity,
      now: this.now,
      proposeOp: (build, options) => proposeOp(this.ops, build, options),
      withConnection: (fn) => this.link.withConnection(fn),
      lastEnvelopes: async (deviceId) => {
        await this.waitSettled(30_000, [])
        const heads: RemovalHeads = {}
        for (const d of this.docs.values()) {
          const h = d.lastEnvelopeOf(toHex(deviceId))
          heads[d.key] = [h.seq, h.seq === 0 ? '' : toHex(h.hash)]
        }
        return heads
      },
    }
  }

  /** When the relay last saw each device (hex id to ms since the epoch); needs the relay. */
  async lastSeen(): Promise<Map<string, number>> {
    return await this.link.withConnection(async () => {
      const answer = this.seenAnswers.wait()
      this.send({ type: 'seenRequest' })
      const m = await answer
      return new Map(m.devices.map((d) => [toHex(d.deviceId), d.time]))
    })
  }

  /** Binds a Yjs document to a named doc of the vault and loads what this device stored for it. */
  async bind(name: string, doc: Y.Doc): Promise<DocSync> {
    const key = this.membership.derivedKey(0, 'doc-id')
    if (!key) throw new MindsyncError('E_NOT_INITIALIZED', 'this device has not joined a vault yet: create one or pair it and sync')
    const docId = docIdOf(key, name)
    if (this.docs.has(toHex(docId))) throw new MindsyncError('E_INVALID_INPUT', `doc "${name}" is already bound`)
    const sync = new DocSync(name, docId, doc, {
      identity: this.identity,
      membership: this.membership,
      store: this.options.store,
      batchMs: this.options.batchMs ?? 2,
      snapshotEvery: { envelopes: this.options.snapshotEvery?.envelopes ?? 1000, bytes: this.options.snapshotEvery?.bytes ?? 1024 * 1024 },
      send: (m) => this.send(m),
      rejected: (r) => this.events.emit('rejected', r),
      alert: (a) => this.raise(a),
      changed: () => this.checkSynced(),
      progress: (p) => this.events.emit('progress', p),
    })
    await sync.load()
    this.docs.set(sync.key, sync)
    if (this.link.ready) await sync.connected()
    return sync
  }

  /**
   * Presence for a bound doc: a y-protocols Awareness shared sealed with the
   * vault's other online devices, never stored by the relay.
   * @example client.presence('journal').setLocalStateField('activity', 'meditating on the watch')
   */
  presence(name: string): Awareness {
    const key = this.membership.derivedKey(0, 'doc-id')
    const sync = key && this.docs.get(toHex(docIdOf(key, name)))
    if (!sync) throw new MindsyncError('E_INVALID_INPUT', `bind doc "${name}" before asking for its presence`)
    let p = this.presences.get(sync.key)
    if (!p) {
      p = new Presence(sync.docId, sync.doc, { identity: this.identity, membership: this.membership, send: (m) => this.send(m) })
      this.presences.set(sync.key, p)
    }
    return p.awareness
  }

  /** Seals every pending local change into the outbox. */
  async flush(): Promise<void> {
    await Promise.all([...this.docs.values()].map((d) => d.flush()))
  }

  // ---- connection -------------------------------------------------------

  /** Stays connected, reconnecting with backoff and jitter, until disconnect(). */
  connect(): void {
    this.link.connect()
  }

  /** Seals what is pending, closes the connection and stops reconnecting. */
  async disconnect(): Promise<void> {
    this.link.stop()
    try {
      await this.flush()
    } finally {
      // Closed even when the store refused to seal what was pending (the flush's error goes to the caller).
      this.link.drop('client disconnect')
    }
  }

  /** Pushes and pulls once: resolves when the relay has every local change and this device has everything on the relay. */
  async syncOnce(options: { timeoutMs?: number } = {}): Promise<SyncReport> {
    const timeoutMs = options.timeoutMs ?? 30_000
    await this.flush()
    const errors: MindsyncError[] = []
    const offRejected = this.events.on('rejected', (r) => {
      if (r.origin === 'relay') errors.push(new MindsyncError(r.code, r.message))
    })
    try {
      await this.link.acquire(timeoutMs)
    } catch (e) {
      offRejected()
      throw e
    }
    try {
      await this.waitSettled(timeoutMs, errors)
      let wrote = false
      for (const d of this.docs.values()) wrote = (await d.snapshotIfDue()) || wrote
      // A checkpoint of what this sync saw, for the other devices to compare.
      wrote = (await this.checkpoint({ onlyIfChanged: true })) || wrote
      if (wrote) await this.waitSettled(timeoutMs, errors)
      await this.rotateIfDue()
    } finally {
      offRejected()
      this.link.release()
      await this.alertLog.saved()
    }
    const gaps = [...this.docs.values()].flatMap((d) => d.gaps().map((g) => ({ doc: d.name, ...g })))
    return { docs: this.docs.size, pending: 0, gaps }
  }

  /**
   * Seals a snapshot of every bound doc now (a sync does this when one is
   * due, see `snapshotEvery`); it leaves with the next sync. True when any was written.
   */
  async snapshot(): Promise<boolean> {
    let wrote = false
    for (const d of this.docs.values()) wrote = (await d.snapshot()) || wrote
    return wrote
  }

  /**
   * Seals a checkpoint of what this device has seen in every bound doc (a
   * sync does this when its view changed). Called directly it always seals a
   * new one, so a checkpoint a relay hid is stated again. True when any was written.
   */
  async checkpoint(options: { onlyIfChanged?: boolean } = {}): Promise<boolean> {
    let wrote = false
    for (const d of this.docs.values()) wrote = (await d.checkpoint(!options.onlyIfChanged)) || wrote
    return wrote
  }

  private raise(a: Omit<Alert, 'at'>): void {
    const alert = { ...a, at: this.now() }
    if (this.alertLog.add(alert)) this.events.emit('alert', alert)
  }

  /** Alerts this device raised about the relay (withheld, rollback, fork, equivocation), oldest first. */
  alerts(): Alert[] {
    return this.alertLog.all()
  }

  /** Waits until every doc is caught up with nothing left to send; fails on a relay refusal or a lost connection. */
  private async waitSettled(timeoutMs: number, errors: MindsyncError[]): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const why = [...this.docs.values()].map((d) => d.unsettled()).filter((w) => w !== '')
        done(new MindsyncError('E_UNREACHABLE', `sync did not finish within ${timeoutMs} ms${why.length > 0 ? ` (${why.join('; ')})` : ''}`))
      }, timeoutMs)
      const offStatus = this.events.on('status', ({ status, error }) => {
        if (status !== 'online') done(error ?? new MindsyncError('E_UNREACHABLE', 'connection closed before sync finished'))
      })
      // The relay refusing one of this device's envelopes ends the sync at once: waiting would not change it.
      const offRejected = this.events.on('rejected', (r) => {
        if (r.origin === 'relay') done(new MindsyncError(r.code, r.message))
      })
      const done = (err?: MindsyncError): void => {
        clearTimeout(timer)
        offStatus()
        offRejected()
        this.settledWaiters.delete(onSettled)
        if (err) reject(err)
        else resolve()
      }
      const onSettled = (): void => done(errors[0])
      this.settledWaiters.add(onSettled)
      // Closed before this wait began (a removal's retry after the relay revoked this device): no status event will come.
      if (this.link.status !== 'online') done(this.link.statusError ?? new MindsyncError('E_UNREACHABLE', 'connection closed before sync finished'))
      else if (this.settled()) done(errors[0])
    })
  }

  private settled(): boolean {
    if (!this.link.ready) return false
    for (const d of this.docs.values()) if (!d.settled) return false
    return true
  }

  private checkSynced(): void {
    if (!this.settled()) return
    for (const d of this.docs.values()) this.events.emit('synced', { doc: d.name })
    for (const w of [...this.settledWaiters]) w()
  }

  private send(message: ClientMessage): boolean {
    return this.link.send(message)
  }

  private onFrame(frame: Uint8Array): void {
    let messages: RelayMessage[]
    try {
      messages = decodeFrame(frame) as RelayMessage[]
    } catch (e) {
      this.link.refuse((e as Error).message.slice(0, 120))
      return
    }
    for (const m of messages) this.dispatch(m)
  }

  /** The key of the doc a message names; the last one is remembered, as a relay sends one doc's envelopes message after message. */
  private lastDoc: { id: Uint8Array; key: string } | undefined
  private docKey(docId: Uint8Array): string {
    if (this.lastDoc === undefined || !sameBytes(this.lastDoc.id, docId)) this.lastDoc = { id: docId.slice(), key: toHex(docId) }
    return this.lastDoc.key
  }

  private dispatch(m: RelayMessage): void {
    switch (m.type) {
      case 'welcome':
        if (this.membership.vaultId && toHex(m.vaultId) !== toHex(this.membership.vaultId)) {
          this.link.refuse('relay answered for another vault')
        }
        break
      case 'ops':
        this.inOrder(() => this.receiveOps(m.from, m.ops))
        break
      case 'opResult':
        this.opResults.resolveAll(m)
        break
      case 'envelopes': {
        // Envelopes for one doc that arrive while earlier work runs join one batch: one store
        // write, one Yjs transaction, and one signature per run of an author's envelopes (vouch.ts).
        const doc = this.docKey(m.docId)
        const open = this.openBatch
        if (open && open.doc === doc) {
          open.items.push(...m.items)
          break
        }
        // The decoded message's own array: nothing else holds it.
        const batch = { doc, items: m.items }
        this.inOrder(() => {
          if (this.openBatch === batch) this.openBatch = undefined
          return this.docs.get(doc)?.receive(batch.items)
        })
        this.openBatch = batch
        break
      }
      case 'caughtUp':
        this.inOrder(() => this.docs.get(this.docKey(m.docId))?.caughtUpTo(m.head))
        break
      case 'stored':
        this.inOrder(() => this.docs.get(this.docKey(m.docId))?.storedUpTo(m.head, m.heads))
        break
      case 'fetched':
        this.inOrder(() => this.docs.get(this.docKey(m.docId))?.fetched(toHex(m.deviceId), m.from, m.to, m.count))
        break
      case 'ack':
        // In order with envelopes and caughtUp: a rollback check compares heads with acknowledged serverSeqs.
        this.inOrder(() => this.docs.get(this.docKey(m.docId))?.acknowledged(m.seq, m.serverSeq))
        break
      case 'reject':
        // In order too: a stale-epoch refusal is answered by sealing again under the epoch the ops before it opened.
        this.inOrder(async () => this.docs.get(this.docKey(m.docId))?.refused(m.code, m.message, m.seq))
        break
      case 'seen':
        this.seenAnswers.resolveAll(m)
        break
      case 'awareness': {
        let docKey: string
        try {
          docKey = toHex(decodeEnvelope(m.envelope).header.docId)
        } catch {
          break // a malformed presence message is dropped
        }
        this.presences.get(docKey)?.receive(m.envelope)
        break
      }
    }
  }

  /**
   * Handles what the relay sent one message at a time, in order: ops before
   * the envelopes sealed under the epochs they open, envelopes before the
   * fetch marker that closes them. Work of a closed connection is dropped.
   */
  private inOrder(work: () => Promise<void> | undefined): void {
    // Anything queued after a batch of envelopes closes it: later envelopes must not overtake it.
    this.openBatch = undefined
    const gen = this.link.generation
    this.inbound = this.inbound.then(() => (gen === this.link.generation ? work() : undefined)).catch((e) => this.link.fail(e))
  }

  /** Ops from the relay (opsSync.ts); its first answer on a connection also brings this device online. */
  private async receiveOps(from: number, ops: Uint8Array[]): Promise<void> {
    const generation = this.link.generation
    if (!(await takeOps(this.ops, from, ops))) return
    if (this.link.ready) return
    await catchRelayUp(this.ops, from + ops.length)
    if (!this.link.online(generation)) return
    for (const d of this.docs.values()) await d.connected()
    for (const p of this.presences.values()) p.connected()
    this.checkSynced()
    if (this.link.wanted) {
      // Outside the ops chain: a rotation waits for it.
      setTimeout(() => void this.rotateIfDue().catch((e) => this.events.emit('rejected', { doc: '', origin: 'local', code: 'E_CONFLICT', message: String(e) })), 0)
    }
  }

  /** Closes the connection and the store; rejects, once both are closed, when the store refused to seal what was pending. */
  async close(): Promise<void> {
    const unsealed = await this.disconnect().then(
      () => undefined,
      (e: unknown) => e,
    )
    // A receive already shown may still be writing to the store: let it finish first.
    await this.inbound
    for (const d of this.docs.values()) d.destroy()
    for (const p of this.presences.values()) p.destroy()
    await this.options.store.close()
    if (unsealed !== undefined) throw unsealed
  }
}
