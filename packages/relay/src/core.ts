import { toHex } from '@mindsync/crypto'
import { CloseCode } from '@mindsync/protocol'
import { authenticate } from './auth.js'
import type { AuthRequest, AuthResult, RelayAuth } from './auth.js'
import { createChains } from './chains.js'
import type { PendingPush } from './chains.js'
import { createChallenges } from './challenge.js'
import { createGroupCommit } from './groupCommit.js'
import { resolveLimits } from './limits.js'
import type { RelayLimits } from './limits.js'
import { silentLog } from './log.js'
import type { RelayLog } from './log.js'
import { BoundedMap } from './lru.js'
import { createMembership } from './membership.js'
import type { AppendOpResult } from './membership.js'
import { createFlushScheduler } from './outbox.js'
import type { Peer } from './outbox.js'
import { findBySeq } from './seqFetch.js'
import { createSession } from './session.js'
import type { Session, SessionDeps } from './session.js'
import type { RelayStorage } from './storage.js'
import { createSubscriptions } from './subscriptions.js'

/** Options of the transport-independent relay core. */
export interface RelayCoreOptions {
  storage: RelayStorage
  limits?: Partial<RelayLimits>
  /** Clock in milliseconds (tests move it to expire challenges). */
  now?: () => number
  log?: RelayLog
  /** Whether a device may create a new vault on this relay. Default 'open'. */
  registration?: 'open' | 'closed'
  /** How long a batch of pushes waits for more before it is committed; acks wait for it, fan-out does not. Default 5 ms. */
  commitDelayMs?: number
}

/** What the transport hands incoming frames to, for one connection. */
export interface SessionHandlers {
  /** One binary frame from the device. */
  receive(frame: Uint8Array): void
  /** The transport closed (by either side). */
  closed(): void
}

/** The relay without a network: authentication, membership, storage, fan-out. A transport (server.ts) drives it. */
export interface RelayCore {
  /** A fresh single-use challenge and the relay id the device must sign with it. */
  issueChallenge(): Promise<{ relayId: Uint8Array; challenge: Uint8Array }>
  /** Checks a device's credentials and membership; a refusal carries an HTTP status and an error code. */
  authenticate(request: AuthRequest): Promise<AuthResult>
  /** Starts a session for an authenticated device; sends `welcome` at once. */
  openSession(auth: RelayAuth, peer: Peer): SessionHandlers
  /** Stops taking frames, finishes the group commit, sends what is queued and closes every session with 1001. */
  shutdown(): Promise<void>
  /** Counters for tests and metrics. */
  stats(): { sessions: number; commits: number }
}

/**
 * Creates the relay core.
 * @example
 * const core = createRelayCore({ storage: createMemoryRelayStorage() })
 * const { relayId, challenge } = await core.issueChallenge()
 * const result = await core.authenticate({ signPub, vaultId, challenge, signature })
 * if (result.ok) core.openSession(result.auth, peer)
 */
export function createRelayCore(options: RelayCoreOptions): RelayCore {
  const { storage } = options
  const limits = resolveLimits(options.limits)
  const now = options.now ?? Date.now
  const log = options.log ?? silentLog
  const registration = options.registration ?? 'open'
  if (registration !== 'open' && registration !== 'closed') throw new TypeError(`registration must be 'open' or 'closed', got ${String(registration)}`)

  let relayIdValue: Uint8Array | undefined
  let relayIdLoad: Promise<Uint8Array> | undefined
  const relayId = (): Promise<Uint8Array> =>
    (relayIdLoad ??= storage.relayId().then((id) => {
      relayIdValue = id
      return id
    }))

  const challenges = createChallenges({ now, ttlMs: limits.challengeTtlMs })
  const membership = createMembership(storage, limits.maxCachedVaults)
  const chains = createChains(storage, limits.maxCachedChainHeads)
  const subs = createSubscriptions({ storage, limits, log })
  const scheduler = createFlushScheduler()
  const sessions = new Set<Session>()
  const byVault = new Map<string, Set<Session>>()
  const lastTouch = new BoundedMap<string, number>(100_000)
  let stopping = false

  const commitDelayMs = options.commitDelayMs ?? 5
  if (!(commitDelayMs >= 0 && commitDelayMs <= 1000)) throw new TypeError(`commitDelayMs must be from 0 to 1000, got ${String(commitDelayMs)}`)
  const commits = createGroupCommit({
    storage,
    delayMs: commitDelayMs,
    beforeWrite: () => scheduler.flushAll(),
    onStored(batch) {
      try {
        const byDoc = new Map<string, PendingPush[]>()
        for (const item of batch) {
          chains.stored(item)
          const list = byDoc.get(item.docKey)
          if (list) list.push(item)
          else byDoc.set(item.docKey, [item])
        }
        for (const [docKey, items] of byDoc) subs.stored(docKey, items)
      } catch (e) {
        log({ level: 'error', event: 'relay.fanout.failed', error: e })
      }
    },
    onFailed(batch, error) {
      try {
        log({ level: 'error', event: 'relay.commit.failed', envelopes: batch.length, error })
        // Later pushes of the same chains build on what was not stored: drop them too.
        const keys = new Set(batch.map((i) => i.chainKey))
        const all = [...batch, ...commits.dropQueued((i) => keys.has(i.chainKey))]
        chains.failed(all)
        for (const item of all) {
          for (const p of item.pushers) p.close(CloseCode.internal, 'the relay could not store your envelopes; reconnect and push them again')
        }
      } catch (e) {
        log({ level: 'error', event: 'relay.commit.cleanup.failed', error: e })
      }
    },
  })

  function touch(auth: RelayAuth): void {
    const key = `${toHex(auth.vaultId)}:${toHex(auth.deviceId)}`
    const t = now()
    const last = lastTouch.get(key)
    if (last !== undefined && t - last < limits.touchIntervalMs) return
    lastTouch.set(key, t)
    storage.touchDevice(auth.vaultId, auth.deviceId, t).catch((e: unknown) => log({ level: 'warn', event: 'relay.touch.failed', error: e }))
  }

  function opAppended(result: Extract<AppendOpResult, { ok: true }>): void {
    const vaultKey = toHex(result.op.vaultId)
    const list = [...(byVault.get(vaultKey) ?? [])]
    for (const s of list) s.outbox.push({ type: 'ops', from: result.op.index, ops: [result.op.bytes] })
    if (!result.removed) return
    const removedKey = toHex(result.removed)
    for (const s of list) {
      // The removed device first gets the op that removed it (close sends what is queued).
      if (s.deviceKey === removedKey) s.close(CloseCode.revoked, 'this device was removed from the vault')
    }
  }

  function forget(s: Session): void {
    sessions.delete(s)
    const set = byVault.get(s.vaultKey)
    set?.delete(s)
    if (set && set.size === 0) byVault.delete(s.vaultKey)
    subs.drop(s)
  }

  const deps: SessionDeps = {
    removing: new Set(),
    limits,
    log,
    membership,
    chains,
    commits,
    subs,
    scheduler,
    stopping: () => stopping,
    touch,
    lastSeen: (vaultId) => storage.lastSeen(vaultId),
    findBySeq: (vaultId, docId, deviceId, from, to) => findBySeq(storage, vaultId, docId, deviceId, from, to),
    opAppended,
    forget,
  }

  return {
    async issueChallenge() {
      return { relayId: await relayId(), challenge: challenges.issue() }
    },

    async authenticate(request) {
      const result = await authenticate({ relayId, challenges, membership, storage, registration }, request)
      if (result.ok) {
        // A registration may never create its vault: nothing to remember yet.
        if (!result.auth.registration) touch(result.auth)
        log({ level: 'info', event: 'relay.auth.ok', vault: toHex(result.auth.vaultId), device: toHex(result.auth.deviceId), registration: result.auth.registration })
      } else {
        log({ level: 'info', event: 'relay.auth.refused', status: result.status, code: result.code, reason: result.message })
      }
      return result
    },

    openSession(auth, peer) {
      if (stopping) {
        peer.close(CloseCode.goingAway, 'relay shutting down')
        return { receive() {}, closed() {} }
      }
      if (!relayIdValue) throw new Error('openSession: authenticate the device first')
      const s = createSession(deps, auth, peer)
      sessions.add(s)
      const set = byVault.get(s.vaultKey) ?? new Set<Session>()
      set.add(s)
      byVault.set(s.vaultKey, set)
      s.outbox.push({ type: 'welcome', relayId: relayIdValue, vaultId: auth.vaultId, deviceId: auth.deviceId, serverTime: Math.floor(now()) })
      log({ level: 'debug', event: 'relay.session.opened', conn: s.id, vault: s.vaultKey, device: s.deviceKey })
      return { receive: s.receive, closed: s.closed }
    },

    async shutdown() {
      stopping = true
      await Promise.allSettled([...sessions].map((s) => s.idle()))
      await commits.flush()
      scheduler.flushAll()
      for (const s of [...sessions]) s.close(CloseCode.goingAway, 'relay shutting down')
    },

    stats: () => ({ sessions: sessions.size, commits: commits.commits() }),
  }
}
