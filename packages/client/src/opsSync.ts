import { toHex } from '@mindsync/crypto'
import { MindsyncError, decodeOp, opHash } from '@mindsync/protocol'
import type { ErrorCode, MembershipOp, RelayMessage } from '@mindsync/protocol'
import type { Alert } from './alerts.js'
import type { Waiters } from './events.js'
import type { LocalStore } from './localStore.js'
import type { Membership } from './membership.js'
import type { RelayLink } from './relayLink.js'
import type { ProposeOptions } from './vaultAdmin.js'

/** What the membership exchange with the relay takes from the client. */
export interface OpsContext {
  /** This device's id. */
  deviceId: Uint8Array
  membership: Membership
  store: LocalStore
  link: RelayLink
  opResults: Waiters<RelayMessage & { type: 'opResult' }>
  /** Resolves once everything the relay sent so far is handled. */
  inbound(): Promise<void>
  raise(alert: Omit<Alert, 'at'>): void
  /** New ops were applied and stored. */
  grew(length: number): void
}

/** How long an accepted op may take to come back to the device that proposed it. */
const SHOWN_WITHIN_MS = 10_000

/** Store meta key set once the relay has accepted this device's ops: a relay without them afterwards rolled back. */
const OPS_CONFIRMED = 'opsConfirmed'

/**
 * Verifies and stores ops the relay sent from index `from`. False when they
 * start past what this device holds: it asked for the missing ones first.
 * Throws E_CHAIN (after a fork alert) when the relay shows another op at an
 * index this device holds, and E_REVOKED when the ops remove this device.
 */
export async function takeOps(ctx: OpsContext, from: number, ops: Uint8Array[]): Promise<boolean> {
  const { membership } = ctx
  const start = membership.length
  if (from > start) {
    // A live broadcast ahead of what this device holds: ask for the missing ops first.
    ctx.link.send({ type: 'hello', opsFrom: start }, true)
    return false
  }
  for (let i = 0; i < ops.length; i++) {
    const index = from + i
    const bytes = ops[i] as Uint8Array
    if (index < start) {
      const ours = membership.ops[index]!
      if (toHex(ours.bytes) !== toHex(bytes)) {
        const message = `the relay shows a different membership op ${index} than the one this device holds`
        ctx.raise({ kind: 'fork', message, evidence: { index, ours: toHex(opHash(ours)), theirs: opHashOf(bytes) } })
        throw new MindsyncError('E_CHAIN', message)
      }
      continue
    }
    membership.apply(decodeOp(bytes))
  }
  if (membership.length > start) {
    await ctx.store.putOps(start, membership.ops.slice(start).map((o) => o.bytes))
    ctx.grew(membership.length)
    if (membership.member(ctx.deviceId)?.removedIndex !== undefined) {
      ctx.link.wanted = false
      throw new MindsyncError('E_REVOKED', 'this device was removed from the vault')
    }
  }
  return true
}

/**
 * The relay's first answer on a connection ends at `relayHead`: a log that
 * ends before what it showed this device before is a rollback; ops made
 * offline (a new vault's genesis) go to the relay one by one before anything
 * else is sent.
 */
export async function catchRelayUp(ctx: OpsContext, relayHead: number): Promise<void> {
  const { membership } = ctx
  if (relayHead < membership.length && (membership.length > 1 || (await ctx.store.getMeta(OPS_CONFIRMED)))) {
    // Only a new vault's genesis is made offline: every other op this device holds came from the relay.
    ctx.raise({
      kind: 'rollback',
      message: `the relay's membership log ends at op ${relayHead} but it already showed this device ${membership.length} ops`,
      evidence: { relayHas: relayHead, deviceHas: membership.length },
    })
  }
  for (let i = relayHead; i < membership.length; i++) {
    const result = ctx.opResults.wait()
    ctx.link.send({ type: 'appendOp', op: membership.ops[i]!.bytes }, true)
    const r = await result
    if (r.code !== '') throw new MindsyncError(r.code as ErrorCode, `relay refused membership op ${i}: ${r.message}`)
  }
  if (!membership.self()) throw new MindsyncError('E_NOT_MEMBER', 'the relay admitted this device but the membership log does not include it')
  if (relayHead < membership.length) await ctx.store.setMeta(OPS_CONFIRMED, new Uint8Array([1]))
}

/** Appends a membership op with compare-and-set at the relay, rebuilding and retrying when another op won the race. `build` returns undefined when the change is no longer needed. */
export async function proposeOp(ctx: OpsContext, build: () => MembershipOp | undefined, options: ProposeOptions = {}): Promise<void> {
  await ctx.link.withConnection(async () => {
    for (let attempt = 0; attempt < 8; attempt++) {
      await options.prepare?.()
      await ctx.inbound()
      const op = build()
      if (!op) return
      const result = ctx.opResults.wait()
      ctx.link.send(options.heads ? { type: 'removeOp', op: op.bytes, heads: options.heads() } : { type: 'appendOp', op: op.bytes })
      const r = await result
      if (r.code === '') {
        // The relay broadcasts the op before its result; wait until it is applied here. A relay
        // that answers yes and then shows another op (or none) must not hold the caller forever.
        await ctx.inbound()
        const until = Date.now() + SHOWN_WITHIN_MS
        while (ctx.membership.length <= op.index) {
          if (!ctx.link.ready || Date.now() > until) throw new MindsyncError('E_UNREACHABLE', `the relay accepted membership op ${op.index} but has not shown it to this device`)
          await new Promise((res) => setTimeout(res, 2))
        }
        return
      }
      if (r.code !== 'E_CONFLICT') throw new MindsyncError(r.code as ErrorCode, `relay refused the membership change: ${r.message}`)
      await new Promise((res) => setTimeout(res, 10 + Math.random() * 50 * (attempt + 1)))
    }
    throw new MindsyncError('E_CONFLICT', 'membership change kept losing races with other devices; try again')
  })
}

function opHashOf(bytes: Uint8Array): string {
  try {
    return toHex(opHash(decodeOp(bytes)))
  } catch (e) {
    return `undecodable: ${(e as Error).message}`
  }
}
