import { toHex } from '@mindsync/crypto'
import { CloseCode, MindsyncError, Scope, authMessage, decodeEnvelope, decodeFrame, decodeOp, docIdOf, encodeFrame, isMindsyncError, opHash } from '@mindsync/protocol'
import type { ClientMessage, ErrorCode, MembershipOp, RelayMessage, StoredEnvelope } from '@mindsync/protocol'
import type * as Y from 'yjs'
import { DocSync } from './docSync.js'
import { Presence } from './presence.js'
import type { Awareness } from 'y-protocols/awareness'
import type { Progress, Rejection } from './docSync.js'
import { AlertLog } from './alerts.js'
import type { Alert } from './alerts.js'
import { Emitter, Waiters } from './events.js'
import { decodeIdentity, encodeIdentity, generateIdentity, isWrapped, unwrapIdentity, wrapIdentity } from './identity.js'
import type { DeviceIdentity } from './identity.js'
import type { LocalStore } from './localStore.js'
import { Membership, genesisOp } from './membership.js'
import type { RemovalHeads } from './membership.js'
import { encodePairingCode, newPairingSecret } from './pairing.js'
import * as admin from './vaultAdmin.js'
import type { Connection, Transport } from './transport.js'

export type Status = 'offline' | 'connecting' | 'online' | 'refused' | 'revoked'

export interface SyncClientEvents extends Record<string, unknown> {
  status: { status: Status; error?: MindsyncError }
  synced: { doc: string }
  rejected: Rejection
  alert: Alert
  membership: { length: number }
  /** A long push under way (a device back from a long time offline). */
  progress: Progress
}

export interface SyncClientOptions {
  store: LocalStore
  /** How to reach the relay (e.g. createWebSocketTransport()). Needed only to sync. */
  transport?: Transport
  /** The relay's base URL, e.g. ws://127.0.0.1:8787 */
  url?: string
  /** This device's name, used when its keys are first created. */
  name?: string
  /**
   * Local changes are sealed right after the turn that made them while no
   * push awaits an answer; otherwise they are collected until the answers
   * are in, for at most this long (default 10 ms).
   */
  batchMs?: number
  /**
   * A sync ends with a snapshot of a doc (the whole state, sealed under the
   * current epoch; the relay then prunes what it covers) once this many
   * envelopes or bytes arrived since the last one, or after a new epoch.
   * Default 1,000 envelopes or 1 MiB; 0 turns that reason off.
   */
  snapshotEvery?: { envelopes?: number; bytes?: number }
  now?: () => number
  /** Reconnection backoff: full jitter between 0 and min(maxMs, minMs * 2^attempt). */
  reconnect?: { minMs?: number; maxMs?: number }
  /**
   * Wraps this device's keys in its store (Argon2id + XChaCha20-Poly1305).
   * Needed on every open once set; without one the keys are stored as they are.
   */
  passphrase?: string
  /** An admin device opens a new epoch when the current one is older than this; default 30 days, 0 never. */
  rotateAfterMs?: number
}

const DAY_MS = 24 * 60 * 60 * 1000

export interface DeviceInfo {
  id: string
  name: string
  scopes: ('read' | 'write' | 'admin' | 'recovery')[]
  addedAt: string
  addedBy: string
  removedAt?: string
  /** When the relay last saw it, if known. */
  lastSeen?: string | null
  self: boolean
}

export interface SyncReport {
  docs: number
  pending: number
  gaps: { doc: string; author: string; from: number; to: number }[]
}

const IDENTITY_KEY = 'identity'
const PAIRING_KEY = 'pairing-secret'

/** Names of the scope bits, for people. */
export function scopeNames(scopes: number): DeviceInfo['scopes'] {
  const out: DeviceInfo['scopes'] = []
  if (scopes & Scope.read) out.push('read')
  if (scopes & Scope.write) out.push('write')
  if (scopes & Scope.admin) out.push('admin')
  if (scopes & Scope.recovery) out.push('recovery')
  return out
}

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
  private connection: Connection | undefined
  private ready = false
  private wanted = false
  private attempt = 0
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private currentStatus: Status = 'offline'
  /** Why the connection last left 'online' (a refusal's error, such as E_REVOKED), if it said. */
  private statusError: MindsyncError | undefined
  private readonly opResults = new Waiters<RelayMessage & { type: 'opResult' }>()
  private inbound: Promise<void> = Promise.resolve()
  /** The last queued batch of received envelopes, while nothing was queued after it and it has not started. */
  private openBatch: { doc: string; items: StoredEnvelope[] } | undefined
  private readonly settledWaiters = new Set<() => void>()
  private readonly seenAnswers = new Waiters<RelayMessage & { type: 'seen' }>()
  private failure: MindsyncError | undefined
  /** Increases with every connection, so events of a closed one are ignored. */
  private generation = 0
  /** Callers holding the connection open (see acquire). */
  private leases = 0
  private opening: Promise<void> | undefined
  private readonly now: () => number

  constructor(
    private readonly options: SyncClientOptions,
    readonly identity: DeviceIdentity,
    readonly membership: Membership,
    private readonly alertLog: AlertLog,
  ) {
    this.now = options.now ?? Date.now
  }

  get deviceId(): string {
    return this.identity.id
  }

  get vaultId(): string | undefined {
    const v = this.membership.vaultId
    return v && toHex(v)
  }

  get status(): Status {
    return this.currentStatus
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
      proposeOp: (build, options) => this.proposeOp(build, options),
      withConnection: (fn) => this.withConnection(fn),
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
    return await this.withConnection(async () => {
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
    if (this.ready) await sync.connected()
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
    this.wanted = true
    if (!this.connection && this.retryTimer === undefined && this.currentStatus !== 'connecting') void this.open()
  }

  /** Closes the connection and stops reconnecting. */
  async disconnect(): Promise<void> {
    this.wanted = false
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    await this.flush()
    this.dropConnection('client disconnect')
  }

  /** Closes the current connection, if any, and forgets it: its late events are ignored. */
  private dropConnection(reason: string): void {
    this.abandonWaiters(new MindsyncError('E_UNREACHABLE', `connection closed: ${reason}`))
    this.generation++
    this.openBatch = undefined
    this.connection?.close(1000, reason)
    this.connection = undefined
    this.ready = false
    for (const d of this.docs.values()) d.disconnected()
    if (this.currentStatus !== 'offline') this.setStatus('offline')
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
      await this.acquire(timeoutMs)
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
      this.release()
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
      if (this.currentStatus !== 'online') done(this.statusError ?? new MindsyncError('E_UNREACHABLE', 'connection closed before sync finished'))
      else if (this.settled()) done(errors[0])
    })
  }

  /** Holds the connection open (opening it if needed) until release(); syncs and membership changes share one connection. */
  private async acquire(timeoutMs = 15_000): Promise<void> {
    this.leases++
    try {
      if (this.ready) return
      this.opening ??= this.openAndWait(timeoutMs).finally(() => {
        this.opening = undefined
      })
      await this.opening
    } catch (e) {
      this.release()
      throw e
    }
  }

  private release(): void {
    this.leases--
    if (this.leases === 0 && !this.wanted) this.dropConnection('done')
  }

  private settled(): boolean {
    if (!this.ready) return false
    for (const d of this.docs.values()) if (!d.settled) return false
    return true
  }

  private checkSynced(): void {
    if (!this.settled()) return
    for (const d of this.docs.values()) this.events.emit('synced', { doc: d.name })
    for (const w of [...this.settledWaiters]) w()
  }

  private setStatus(status: Status, error?: MindsyncError): void {
    this.currentStatus = status
    this.statusError = error
    this.events.emit('status', error ? { status, error } : { status })
  }

  private async open(): Promise<void> {
    const { transport, url } = this.options
    if (!transport || !url) {
      this.setStatus('refused', new MindsyncError('E_INVALID_INPUT', 'no relay configured: pass transport and url'))
      return
    }
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    this.setStatus('connecting')
    const gen = ++this.generation
    this.openBatch = undefined
    try {
      const vaultId = this.membership.vaultId
      const connection = await transport.connect(
        {
          url,
          vaultId,
          signPub: this.identity.signPub,
          signAuth: (relayId, challenge) => this.identity.signer.sign(authMessage(relayId, vaultId ?? new Uint8Array(16), challenge)),
        },
        {
          onFrame: (f) => {
            if (gen === this.generation) this.onFrame(f)
          },
          onClose: (code, reason) => {
            if (gen === this.generation) this.onClose(code, reason)
          },
        },
      )
      if (gen !== this.generation) {
        connection.close(1000, 'superseded')
        return
      }
      this.connection = connection
    } catch (e) {
      if (gen !== this.generation) return
      const err = isMindsyncError(e) ? e : new MindsyncError('E_UNREACHABLE', String(e))
      const permanent = err.code === 'E_REVOKED' || err.code === 'E_UNAUTHORIZED'
      this.setStatus(err.code === 'E_UNREACHABLE' ? 'offline' : err.code === 'E_REVOKED' ? 'revoked' : 'refused', err)
      if (!permanent) this.scheduleRetry()
      return
    }
    this.attempt = 0
    // From the last op this device holds, so a relay showing another op at that index is caught.
    this.send({ type: 'hello', opsFrom: Math.max(0, this.membership.length - 1) }, true)
  }

  private scheduleRetry(): void {
    if (!this.wanted) return
    const min = this.options.reconnect?.minMs ?? 250
    const max = this.options.reconnect?.maxMs ?? 30_000
    const delay = Math.random() * Math.min(max, min * 2 ** this.attempt++)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      // A sync or a membership change may have opened a connection meanwhile.
      if (!this.connection && this.currentStatus !== 'connecting') void this.open()
    }, delay)
  }

  /** Nobody waits forever for an answer a closed connection will not bring. */
  private abandonWaiters(error: MindsyncError): void {
    this.opResults.rejectAll(error)
    this.seenAnswers.rejectAll(error)
  }

  private onClose(code: number, reason: string): void {
    this.abandonWaiters(new MindsyncError(code === CloseCode.revoked ? 'E_REVOKED' : closeError(code), `relay closed the connection (${code}): ${reason || 'no reason given'}`))
    this.connection = undefined
    this.ready = false
    for (const d of this.docs.values()) d.disconnected()
    if (code === CloseCode.revoked) {
      this.wanted = false
      this.setStatus('revoked', new MindsyncError('E_REVOKED', `relay closed the connection: ${reason || 'device removed'}`))
      return
    }
    const err = this.failure ?? (code === 1000 ? undefined : new MindsyncError(closeError(code), `relay closed the connection (${code}): ${reason || 'no reason given'}`))
    this.failure = undefined
    this.setStatus('offline', err)
    this.scheduleRetry()
  }

  private send(message: ClientMessage, beforeReady = false): boolean {
    if (!this.connection || (!this.ready && !beforeReady)) return false
    this.connection.send(encodeFrame([message]))
    return true
  }

  private onFrame(frame: Uint8Array): void {
    let messages: RelayMessage[]
    try {
      messages = decodeFrame(frame) as RelayMessage[]
    } catch (e) {
      this.connection?.close(CloseCode.badFrame, (e as Error).message.slice(0, 120))
      return
    }
    for (const m of messages) this.dispatch(m)
  }

  private dispatch(m: RelayMessage): void {
    switch (m.type) {
      case 'welcome':
        if (this.membership.vaultId && toHex(m.vaultId) !== toHex(this.membership.vaultId)) {
          this.connection?.close(CloseCode.badFrame, 'relay answered for another vault')
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
        const doc = toHex(m.docId)
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
        this.inOrder(() => this.docs.get(toHex(m.docId))?.caughtUpTo(m.head))
        break
      case 'stored':
        this.inOrder(() => this.docs.get(toHex(m.docId))?.storedUpTo(m.head, m.heads))
        break
      case 'fetched':
        this.inOrder(() => this.docs.get(toHex(m.docId))?.fetched(toHex(m.deviceId), m.from, m.to, m.count))
        break
      case 'ack':
        // In order with envelopes and caughtUp: a rollback check compares heads with acknowledged serverSeqs.
        this.inOrder(() => this.docs.get(toHex(m.docId))?.acknowledged(m.seq, m.serverSeq))
        break
      case 'reject':
        // In order too: a stale-epoch refusal is answered by sealing again under the epoch the ops before it opened.
        this.inOrder(async () => this.docs.get(toHex(m.docId))?.refused(m.code, m.message, m.seq))
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
    const gen = this.generation
    this.inbound = this.inbound.then(() => (gen === this.generation ? work() : undefined)).catch((e) => this.fail(e))
  }

  private fail(e: unknown): void {
    const err = isMindsyncError(e) ? e : new MindsyncError('E_INTERNAL', String(e))
    this.failure = err
    this.events.emit('rejected', { doc: '', code: err.code, message: err.message, origin: 'received' })
    this.connection?.close(CloseCode.badFrame, err.message.slice(0, 120))
  }

  /** Verifies and stores ops from the relay; on the first answer, pushes local ops the relay lacks and subscribes. */
  private async receiveOps(from: number, ops: Uint8Array[]): Promise<void> {
    const start = this.membership.length
    if (from > start) {
      // A live broadcast ahead of what this device holds: ask for the missing ops first.
      this.send({ type: 'hello', opsFrom: start }, true)
      return
    }
    for (let i = 0; i < ops.length; i++) {
      const index = from + i
      const bytes = ops[i] as Uint8Array
      if (index < start) {
        const ours = this.membership.ops[index]!
        if (toHex(ours.bytes) !== toHex(bytes)) {
          const message = `the relay shows a different membership op ${index} than the one this device holds`
          this.raise({ kind: 'fork', message, evidence: { index, ours: toHex(opHash(ours)), theirs: opHashOf(bytes) } })
          throw new MindsyncError('E_CHAIN', message)
        }
        continue
      }
      this.membership.apply(decodeOp(bytes))
    }
    if (this.membership.length > start) {
      await this.options.store.putOps(start, this.membership.ops.slice(start).map((o) => o.bytes))
      this.events.emit('membership', { length: this.membership.length })
      if (this.membership.member(this.identity.deviceId)?.removedIndex !== undefined) {
        this.wanted = false
        throw new MindsyncError('E_REVOKED', 'this device was removed from the vault')
      }
    }
    if (this.ready) return
    const relayHead = from + ops.length
    if (relayHead < this.membership.length && (this.membership.length > 1 || (await this.options.store.getMeta(OPS_CONFIRMED)))) {
      // Only a new vault's genesis is made offline: every other op this device holds came from the relay.
      this.raise({
        kind: 'rollback',
        message: `the relay's membership log ends at op ${relayHead} but it already showed this device ${this.membership.length} ops`,
        evidence: { relayHas: relayHead, deviceHas: this.membership.length },
      })
    }
    for (let i = relayHead; i < this.membership.length; i++) {
      // Ops made offline (a new vault's genesis): the relay must accept each before anything else is sent.
      const result = this.opResults.wait()
      this.send({ type: 'appendOp', op: this.membership.ops[i]!.bytes }, true)
      const r = await result
      if (r.code !== '') throw new MindsyncError(r.code as ErrorCode, `relay refused membership op ${i}: ${r.message}`)
    }
    if (!this.membership.self()) throw new MindsyncError('E_NOT_MEMBER', 'the relay admitted this device but the membership log does not include it')
    if (relayHead < this.membership.length) await this.options.store.setMeta(OPS_CONFIRMED, new Uint8Array([1]))
    this.ready = true
    this.setStatus('online')
    for (const d of this.docs.values()) await d.connected()
    for (const p of this.presences.values()) p.connected()
    this.checkSynced()
    if (this.wanted) {
      // Outside the ops chain: a rotation waits for it.
      setTimeout(() => void this.rotateIfDue().catch((e) => this.events.emit('rejected', { doc: '', origin: 'local', code: 'E_CONFLICT', message: String(e) })), 0)
    }
  }

  /** Appends a membership op with compare-and-set at the relay, rebuilding and retrying when another op won the race. `build` returns undefined when the change is no longer needed. */
  private async proposeOp(build: () => MembershipOp | undefined, options: admin.ProposeOptions = {}): Promise<void> {
    await this.withConnection(async () => {
      for (let attempt = 0; attempt < 8; attempt++) {
        await options.prepare?.()
        await this.inbound
        const op = build()
        if (!op) return
        const result = this.opResults.wait()
        this.send(options.heads ? { type: 'removeOp', op: op.bytes, heads: options.heads() } : { type: 'appendOp', op: op.bytes })
        const r = await result
        if (r.code === '') {
          // The relay broadcasts the op before its result; wait until it is applied here.
          await this.inbound
          while (this.membership.length <= op.index) await new Promise((res) => setTimeout(res, 2))
          return
        }
        if (r.code !== 'E_CONFLICT') throw new MindsyncError(r.code as ErrorCode, `relay refused the membership change: ${r.message}`)
        await new Promise((res) => setTimeout(res, 10 + Math.random() * 50 * (attempt + 1)))
      }
      throw new MindsyncError('E_CONFLICT', 'membership change kept losing races with other devices; try again')
    })
  }

  /** Runs `fn` on a ready connection, opening one (and closing it after) when there is none. */
  private async withConnection<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire()
    try {
      return await fn()
    } finally {
      this.release()
    }
  }

  private async openAndWait(timeoutMs: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new MindsyncError('E_UNREACHABLE', `relay did not answer within ${timeoutMs} ms`)), timeoutMs)
      const off = this.events.on('status', ({ status, error }) => {
        if (status === 'online') finish()
        else if (status !== 'connecting') finish(error ?? new MindsyncError('E_UNREACHABLE', 'connection closed'))
      })
      const finish = (err?: MindsyncError): void => {
        clearTimeout(timer)
        off()
        if (err) reject(err)
        else resolve()
      }
      // connect() may already be opening one.
      if (this.currentStatus !== 'connecting') void this.open()
    })
  }

  /** Closes the connection and the store. */
  async close(): Promise<void> {
    await this.disconnect()
    // A receive already shown may still be writing to the store: let it finish first.
    await this.inbound
    for (const d of this.docs.values()) d.destroy()
    for (const p of this.presences.values()) p.destroy()
    await this.options.store.close()
  }
}

/** Store meta key set once the relay has accepted this device's ops: a relay without them afterwards rolled back. */
const OPS_CONFIRMED = 'opsConfirmed'

function opHashOf(bytes: Uint8Array): string {
  try {
    return toHex(opHash(decodeOp(bytes)))
  } catch (e) {
    return `undecodable: ${(e as Error).message}`
  }
}

function closeError(code: number): ErrorCode {
  switch (code) {
    case CloseCode.unauthorized:
      return 'E_UNAUTHORIZED'
    case CloseCode.forbidden:
      return 'E_FORBIDDEN'
    case CloseCode.badFrame:
      return 'E_BAD_FRAME'
    case CloseCode.tooLarge:
      return 'E_TOO_LARGE'
    default:
      return 'E_UNREACHABLE'
  }
}
