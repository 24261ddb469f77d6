import { fromHex, toHex } from '@mindsync/crypto'
import { MindsyncError, Scope, deviceIdOf } from '@mindsync/protocol'
import type { Member, MembershipOp } from '@mindsync/protocol'
import type { DeviceIdentity } from './identity.js'
import type { Membership, RemovalHeads } from './membership.js'
import { decodePairingCode, newPairingSecret } from './pairing.js'
import { newRecoveryCode, recoveryIdentity } from './recovery.js'
import type { DeviceInfo } from './clientTypes.js'
import { scopeNames } from './clientTypes.js'

export interface ProposeOptions {
  /** Runs before each attempt (and its build), on the open connection. */
  prepare?: () => Promise<void>
  /** For a removal: the removed device's chain head per doc, which the relay checks before appending. */
  heads?: () => { docId: Uint8Array; seq: number }[]
}

/** What the vault's membership commands need from the engine. */
export interface AdminContext {
  membership: Membership
  identity: DeviceIdentity
  now(): number
  /** Appends an op with compare-and-set, rebuilding it after a lost race; `build` returns undefined when it is no longer needed. */
  proposeOp(build: () => MembershipOp | undefined, options?: ProposeOptions): Promise<void>
  withConnection<T>(fn: () => Promise<T>): Promise<T>
  /** After catching up with the relay: a device's last envelope in every bound doc. */
  lastEnvelopes(deviceId: Uint8Array): Promise<RemovalHeads>
}

/** Admits the device that made `code`. */
export async function acceptPairing(ctx: AdminContext, code: string, scopes: number = Scope.read | Scope.write): Promise<string> {
  const offer = decodePairingCode(code)
  const self = ctx.membership.self()
  if (!self) throw new MindsyncError('E_NOT_MEMBER', 'this device is not a member of a vault')
  if (!(self.scopes & (Scope.admin | Scope.recovery))) throw new MindsyncError('E_SCOPE', 'only an admin device can add devices')
  const id = toHex(deviceIdOf(offer.signPub))
  await ctx.proposeOp(() => {
    const known = ctx.membership.member(deviceIdOf(offer.signPub))
    if (known) throw new MindsyncError('E_REPLAY', `device ${id} was already ${known.removedIndex === undefined ? 'added' : 'removed'}; a removed device must pair again with new keys`)
    return ctx.membership.addDeviceOp(offer, scopes, ctx.now())
  })
  return id
}

function requireScope(ctx: AdminContext, scope: number, what: string): void {
  const self = ctx.membership.self()
  if (!self) throw new MindsyncError('E_NOT_MEMBER', 'this device is not a member of a vault')
  if ((self.scopes & scope) === 0) throw new MindsyncError('E_SCOPE', `only an admin device can ${what}`)
}

/** Removes a device (needs admin and the relay): a new epoch starts whose key the removed device never gets. */
export async function removeDevice(ctx: AdminContext, id: string): Promise<void> {
  if (!/^[0-9a-f]{32}$/i.test(id)) throw new MindsyncError('E_INVALID_INPUT', `device id must be 32 hex digits, got "${id}"`, 'id')
  if (id.toLowerCase() === ctx.identity.id) throw new MindsyncError('E_INVALID_INPUT', 'a device cannot remove itself; remove it from another admin device')
  requireScope(ctx, Scope.admin, 'remove devices')
  const target = fromHex(id)
  if (!ctx.membership.member(target)) throw new MindsyncError('E_NOT_MEMBER', `device ${id} is not a member of this vault`)
  // Its last envelopes, read again before each attempt: the relay appends the removal only while they are still its heads.
  let heads: RemovalHeads = {}
  await ctx.proposeOp(
    () => {
      const m = ctx.membership.member(target)
      if (!m) throw new MindsyncError('E_NOT_MEMBER', `device ${id} is not a member of this vault`)
      if (m.removedIndex !== undefined) return undefined // removed meanwhile by another device
      return ctx.membership.newEpochOp(ctx.now(), target, heads)
    },
    {
      prepare: async () => {
        heads = await ctx.lastEnvelopes(target)
      },
      heads: () => Object.entries(heads).map(([doc, [seq]]) => ({ docId: fromHex(doc), seq })),
    },
  )
}

/** Opens a new epoch with a fresh key for every current device (needs admin and the relay). Returns the new epoch. */
export async function rotate(ctx: AdminContext): Promise<number> {
  requireScope(ctx, Scope.admin, 'rotate keys')
  await ctx.proposeOp(() => ctx.membership.newEpochOp(ctx.now()))
  return ctx.membership.requireState().epoch
}

/** Rotates when the current epoch is older than rotateAfterMs and this device is an admin. */
export async function rotateIfDue(ctx: AdminContext, maxAge: number): Promise<boolean> {
  const self = ctx.membership.self()
  const state = ctx.membership.state
  if (maxAge === 0 || !self || !state || (self.scopes & Scope.admin) === 0) return false
  if (ctx.now() - state.epochStartedAt < maxAge) return false
  let rotated = false
  await ctx.proposeOp(() => {
    // Another admin may have rotated meanwhile.
    if (ctx.now() - ctx.membership.requireState().epochStartedAt < maxAge) return undefined
    rotated = true
    return ctx.membership.newEpochOp(ctx.now())
  })
  return rotated
}

/** Removes every other device (recovery codes stay valid). Returns the ids removed. */
export async function signOutOthers(ctx: AdminContext): Promise<string[]> {
  requireScope(ctx, Scope.admin, 'sign out other devices')
  const others = ctx.membership.members().filter((m) => toHex(m.deviceId) !== ctx.identity.id && (m.scopes & Scope.recovery) === 0)
  const ids = others.map((m) => toHex(m.deviceId))
  await ctx.withConnection(async () => {
    for (const id of ids) await removeDevice(ctx, id)
  })
  return ids
}

/**
 * Creates a recovery code (needs admin and the relay): a member whose keys
 * are derived from the code with Argon2id. Any earlier recovery code stops
 * working. Show the code to the person once; it is not stored.
 */
export async function createRecoveryCode(ctx: AdminContext): Promise<string> {
  requireScope(ctx, Scope.admin, 'create recovery codes')
  const code = newRecoveryCode()
  const recovery = await recoveryIdentity(code)
  await ctx.withConnection(async () => {
    const earlier = ctx.membership.members().filter((m) => (m.scopes & Scope.recovery) !== 0)
    const offer = { signPub: recovery.signPub, dhPub: recovery.dhPub, secret: newPairingSecret(), name: recovery.name }
    await ctx.proposeOp(() => ctx.membership.addDeviceOp(offer, Scope.read | Scope.recovery, ctx.now()))
    for (const m of earlier) await removeDevice(ctx, toHex(m.deviceId))
  })
  return code
}

/** The devices of the vault, for a dashboard. */
export function listDevices(membership: Membership, identity: DeviceIdentity, lastSeen: Map<string, number>): DeviceInfo[] {
  const state = membership.state
  if (!state) return []
  return [...state.members.values()]
    .sort((a, b) => a.addedIndex - b.addedIndex)
    .map((m: Member) => {
      const id = toHex(m.deviceId)
      const info: DeviceInfo = {
        id,
        name: membership.nameOf(m.deviceId) ?? '(unnamed)',
        scopes: scopeNames(m.scopes),
        addedAt: new Date(m.addedAt).toISOString(),
        addedBy: toHex(m.addedBy),
        self: id === identity.id,
      }
      if (m.removedAt !== undefined) info.removedAt = new Date(m.removedAt).toISOString()
      const seen = lastSeen.get(id)
      info.lastSeen = seen === undefined ? null : new Date(seen).toISOString()
      return info
    })
}
