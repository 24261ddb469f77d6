import { fromHex, toHex } from '@mindsync/crypto'
import { CloseCode, EnvelopeKind, OpType, Scope, decodeEnvelope, decodeFrame, decodeOp, hasScope, sameBytes } from '@mindsync/protocol'
import type { ClientMessage, Envelope, Member, MembershipOp, Message } from '@mindsync/protocol'
import type { RelayAuth } from './auth.js'
import type { Chains } from './chains.js'
import type { Connection } from './connection.js'
import type { GroupCommit } from './groupCommit.js'
import type { RelayLimits } from './limits.js'
import type { RelayLog } from './log.js'
import type { AppendOpResult, Membership, VaultView } from './membership.js'
import { createOutbox } from './outbox.js'
import type { FlushScheduler, Peer } from './outbox.js'
import type { Subscriptions } from './subscriptions.js'

/** One authenticated connection bound to one vault. */
export interface Session extends Connection {
  readonly auth: RelayAuth
  readonly vaultKey: string
  readonly deviceKey: string
  receive(frame: Uint8Array): void
  /** The transport closed. */
  closed(): void
  /** Resolves when every frame received so far has been handled. */
  idle(): Promise<void>
}

/** The relay-wide parts a session works with (wired by core.ts). */
export interface SessionDeps {
  limits: RelayLimits
  log: RelayLog
  membership: Membership
  chains: Chains
  commits: GroupCommit
  subs: Subscriptions
  scheduler: FlushScheduler
  stopping(): boolean
  touch(auth: RelayAuth): void
  /** When the relay last saw each device of a vault (hex device id to ms). */
  lastSeen(vaultId: Uint8Array): Promise<Map<string, number>>
  /** One author's stored envelopes of a doc with from ≤ seq ≤ to, and the base snapshot when it covers pruned ones. */
  findBySeq(vaultId: Uint8Array, docId: Uint8Array, deviceId: Uint8Array, from: number, to: number): Promise<{ serverSeq: number; envelope: Uint8Array }[]>
  opAppended(result: Extract<AppendOpResult, { ok: true }>): void
  forget(session: Session): void
  /** vault:device (hex) of devices a removal op is being checked and appended for: their pushes wait for the outcome. */
  removing: Set<string>
}

const CLIENT_TYPES = new Set<Message['type']>(['hello', 'subscribe', 'push', 'appendOp', 'removeOp', 'awareness', 'fetch', 'seenRequest', 'fetchSeqs'])

/** WebSocket close reasons are limited to 123 UTF-8 bytes (RFC 6455 5.5). */
export function closeReason(reason: string): string {
  const bytes = Buffer.from(reason, 'utf8')
  if (bytes.length <= 123) return reason
  let cut = 120
  while (cut > 0 && ((bytes[cut] as number) & 0xc0) === 0x80) cut--
  return `${bytes.subarray(0, cut).toString('utf8')}...`
}

let nextId = 1

export function createSession(deps: SessionDeps, auth: RelayAuth, peer: Peer): Session {
  const { limits, log } = deps
  const id = nextId++
  const vaultKey = toHex(auth.vaultId)
  const deviceKey = toHex(auth.deviceId)
  let open = true
  let pendingIn = 0
  let chain: Promise<void> = Promise.resolve()
  const outbox = createOutbox(peer, deps.scheduler, limits.maxOutgoingFrameBytes, (e) => {
    log({ level: 'warn', event: 'relay.send.failed', conn: id, error: e })
    close(CloseCode.internal, 'send failed')
  }, auth.deviceId)

  function close(code: number, reason: string): void {
    if (!open) return
    open = false
    outbox.flush()
    outbox.discard()
    deps.forget(session)
    log({ level: code === CloseCode.goingAway || code === CloseCode.normal ? 'debug' : 'info', event: 'relay.session.closed', conn: id, code, reason })
    try {
      peer.close(code, closeReason(reason))
    } catch (e) {
      log({ level: 'warn', event: 'relay.close.failed', conn: id, error: e })
    }
  }

  const reject = (code: string, message: string, docId: Uint8Array, seq: number): void => outbox.push({ type: 'reject', code, message, docId, seq })

  /** The device's current membership, or undefined after closing the session with the reason. */
  async function member(): Promise<{ view: VaultView; member: Member } | undefined> {
    const view = await deps.membership.load(auth.vaultId)
    if (!open) return undefined
    if (!view) return void close(CloseCode.forbidden, 'the vault does not exist yet: append its genesis op first')
    const m = view.state.members.get(deviceKey)
    if (!m) return void close(CloseCode.forbidden, 'this device is not a member of the vault')
    if (m.removedIndex !== undefined) return void close(CloseCode.revoked, 'this device was removed from the vault')
    return { view, member: m }
  }

  /** Size, structure, vault and author of an envelope from this device; closes the session and returns undefined when one does not hold. */
  function envelopeFrom(what: 'push' | 'awareness', bytes: Uint8Array): Envelope | undefined {
    if (bytes.length > limits.maxEnvelopeBytes) {
      return void close(CloseCode.tooLarge, `${what}: envelope is ${bytes.length} bytes, above the limit of ${limits.maxEnvelopeBytes}`)
    }
    let env: Envelope
    try {
      env = decodeEnvelope(bytes, limits.maxEnvelopeBytes)
    } catch (e) {
      return void close(CloseCode.badFrame, `${what}: ${(e as Error).message}`)
    }
    const h = env.header
    if (!sameBytes(h.vaultId, auth.vaultId)) return void close(CloseCode.forbidden, `${what}: envelope vaultId is not the vault of this connection`)
    if (!sameBytes(h.deviceId, auth.deviceId)) return void close(CloseCode.forbidden, `${what}: envelope deviceId is not the authenticated device`)
    if ((h.kind === EnvelopeKind.awareness) !== (what === 'awareness')) {
      return void close(CloseCode.badFrame, what === 'push' ? 'push: kind awareness is never stored; send it as an awareness message' : 'awareness: kind must be awareness')
    }
    return env
  }

  async function push(bytes: Uint8Array): Promise<void> {
    const env = envelopeFrom('push', bytes)
    if (!env) return
    const h = env.header
    const m = await member()
    if (!m) return
    if (!hasScope(m.member, Scope.write)) {
      reject('E_SCOPE', 'this device may read but not write (no write scope)', h.docId, h.seq)
      return close(CloseCode.forbidden, 'push: this device has no write scope')
    }
    if (h.epoch > m.view.state.epoch) return reject('E_UNKNOWN_EPOCH', `epoch ${h.epoch} is ahead of the vault's epoch ${m.view.state.epoch}`, h.docId, h.seq)
    // A removed device holds every key before the epoch its removal opened: nothing new is stored under one.
    const stale = h.epoch < m.view.state.sealFrom ? `epoch ${h.epoch} was closed by a device removal; seal under epoch ${m.view.state.epoch}` : undefined
    if (deps.removing.has(`${vaultKey}:${toHex(h.deviceId)}`)) return reject('E_CONFLICT', 'this device is being removed from the vault', h.docId, h.seq)
    const verdict = await deps.chains.admit(env, session, stale)
    if (!open) return
    switch (verdict.kind) {
      case 'accept':
        // The other devices get it now; the author's ack waits until it is durable.
        deps.subs.early(verdict.item, session)
        deps.commits.add(verdict.item)
        deps.touch(auth)
        return
      case 'stored':
        return outbox.push({ type: 'ack', docId: h.docId, seq: h.seq, serverSeq: verdict.serverSeq })
      case 'pending':
        if (!verdict.item.pushers.includes(session)) verdict.item.pushers.push(session)
        return
      case 'reject':
        return reject(verdict.code, verdict.message, h.docId, h.seq)
    }
  }

  async function awareness(bytes: Uint8Array): Promise<void> {
    const env = envelopeFrom('awareness', bytes)
    if (!env) return
    const m = await member()
    if (!m) return
    const h = env.header
    if (h.epoch > m.view.state.epoch) return reject('E_UNKNOWN_EPOCH', `epoch ${h.epoch} is ahead of the vault's epoch ${m.view.state.epoch}`, h.docId, 0)
    deps.subs.awareness(session, `${vaultKey}:${toHex(h.docId)}`, env.bytes)
  }

  async function hello(opsFrom: number): Promise<void> {
    let ops: Uint8Array[] = []
    if (await deps.membership.load(auth.vaultId)) {
      const m = await member()
      if (!m) return
      ops = m.view.ops
    } else if (!auth.registration) {
      return close(CloseCode.forbidden, 'the vault does not exist')
    }
    if (!open) return
    // Always with the relay's last op, so a device that holds more can tell a shorter log from a forked one.
    const from = Math.min(opsFrom, Math.max(0, ops.length - 1))
    outbox.push({ type: 'ops', from, ops: ops.slice(from) })
  }

  async function appendOp(bytes: Uint8Array): Promise<void> {
    let op: MembershipOp
    try {
      op = decodeOp(bytes)
    } catch (e) {
      return close(CloseCode.badFrame, `appendOp: ${(e as Error).message}`)
    }
    // A device must be a current member to extend the log; a registration
    // connection may only create the vault it asked for.
    if ((await deps.membership.load(auth.vaultId)) && !(await member())) return
    if (!open) return
    const result = await deps.membership.append(auth.vaultId, op, auth.registration ? auth.signPub : undefined)
    if (!open) return
    if (!result.ok) return outbox.push({ type: 'opResult', index: op.index, code: result.code, message: result.message })
    log({ level: 'info', event: 'relay.op.appended', conn: id, vault: vaultKey, index: op.index, type: op.type })
    deps.opAppended(result)
    outbox.push({ type: 'opResult', index: op.index, code: '', message: '' })
  }

  /**
   * A removal op with the removed device's heads as the remover saw them:
   * appended only while they are still this relay's heads (else E_CONFLICT:
   * the remover catches up and tries again), with the device's pushes held
   * off meanwhile, so its recorded last envelopes are all it ever stored.
   */
  async function removeOp(bytes: Uint8Array, heads: { docId: Uint8Array; seq: number }[]): Promise<void> {
    let op: MembershipOp
    try {
      op = decodeOp(bytes)
    } catch (e) {
      return close(CloseCode.badFrame, `removeOp: ${(e as Error).message}`)
    }
    if (op.type !== OpType.removeDevice) return close(CloseCode.badFrame, 'removeOp: the op must remove a device')
    if (!(await member())) return
    const key = `${vaultKey}:${toHex(op.target)}`
    if (deps.removing.has(key)) return outbox.push({ type: 'opResult', index: op.index, code: 'E_CONFLICT', message: 'another removal of this device is under way' })
    deps.removing.add(key)
    try {
      for (const h of heads) {
        const seq = await deps.chains.headSeq(auth.vaultId, h.docId, op.target)
        if (seq !== h.seq) {
          return outbox.push({ type: 'opResult', index: op.index, code: 'E_CONFLICT', message: `the device has ${seq} envelopes in doc ${toHex(h.docId)}, the removal records ${h.seq}: catch up and try again` })
        }
      }
      await appendOp(bytes)
    } finally {
      deps.removing.delete(key)
    }
  }

  async function handle(m: ClientMessage): Promise<void> {
    switch (m.type) {
      case 'hello':
        return hello(m.opsFrom)
      case 'appendOp':
        return appendOp(m.op)
      case 'removeOp':
        return removeOp(m.op, m.heads)
      case 'push':
        return push(m.envelope)
      case 'awareness':
        return awareness(m.envelope)
      case 'subscribe': {
        if (!(await member())) return
        if (deps.subs.subscribe(session, auth.vaultId, m.docId, m.cursor) === 'too-many') {
          close(CloseCode.rateLimited, `subscribe: more than ${limits.maxSubscriptions} docs on one connection`)
        }
        return
      }
      case 'fetch':
        if (!(await member())) return
        return deps.subs.fetch(session, auth.vaultId, m.docId, m.from, m.to)
      case 'fetchSeqs': {
        if (!(await member())) return
        if (m.to < m.from || m.to - m.from >= 10_000) return close(CloseCode.badFrame, 'fetchSeqs: from..to must name 1 to 10,000 seqs')
        // Accepted but not stored yet (read first: one stored meanwhile then shows up twice, never not at all).
        // A device may see an envelope early and miss its predecessor, which the relay is still storing.
        const early = deps.chains.pendingBySeq(auth.vaultId, m.docId, m.deviceId, m.from, m.to).map((envelope) => ({ serverSeq: 0, envelope }))
        const items = [...early, ...(await deps.findBySeq(auth.vaultId, m.docId, m.deviceId, m.from, m.to))]
        if (!open) return
        if (items.length > 0) outbox.push({ type: 'envelopes', docId: m.docId, items })
        return outbox.push({ type: 'fetched', docId: m.docId, deviceId: m.deviceId, from: m.from, to: m.to, count: items.length })
      }
      case 'seenRequest': {
        if (!(await member())) return
        const seen = await deps.lastSeen(auth.vaultId)
        if (!open) return
        return outbox.push({ type: 'seen', devices: [...seen].map(([hex, time]) => ({ deviceId: fromHex(hex), time })) })
      }
    }
  }

  function receive(frame: Uint8Array): void {
    if (!open || deps.stopping()) return
    if (pendingIn + frame.length > limits.maxPendingInBytes) {
      return close(CloseCode.rateLimited, 'too many bytes received and not yet processed; slow down')
    }
    let messages: Message[]
    try {
      messages = decodeFrame(frame)
    } catch (e) {
      return close(CloseCode.badFrame, (e as Error).message)
    }
    const wrong = messages.find((m) => !CLIENT_TYPES.has(m.type))
    if (wrong) return close(CloseCode.badFrame, `frame: message type ${wrong.type} is not sent by devices`)
    pendingIn += frame.length
    // One frame at a time, each message in order: a genesis op is stored
    // before the subscribe that follows it in the same frame is handled.
    chain = chain
      .then(async () => {
        for (const m of messages as ClientMessage[]) {
          if (!open) return
          await handle(m)
        }
      })
      .catch((e: unknown) => {
        log({ level: 'error', event: 'relay.session.error', conn: id, vault: vaultKey, error: e })
        close(CloseCode.internal, 'internal error on the relay')
      })
      .finally(() => {
        pendingIn -= frame.length
      })
  }

  const session: Session = {
    id,
    auth,
    vaultKey,
    deviceKey,
    outbox,
    isOpen: () => open,
    bufferedAmount: () => peer.bufferedAmount(),
    close,
    receive,
    closed() {
      if (!open) return
      open = false
      outbox.discard()
      deps.forget(session)
    },
    idle: () => chain,
  }
  return session
}
