import { MindsyncError } from './errors.js'
import { DEVICE_ID_BYTES, ZERO_HASH, deviceIdOf, idKey, sameBytes } from './ids.js'
import { ALL_SCOPES, OpType, Scope, opHash, verifyOpSignature } from './membershipOp.js'
import type { MembershipOp } from './membershipOp.js'

export interface Member {
  deviceId: Uint8Array
  signPub: Uint8Array
  dhPub: Uint8Array
  scopes: number
  addedIndex: number
  addedAt: number
  addedBy: Uint8Array
  /** Index of the op that removed it, if removed. */
  removedIndex?: number
  removedAt?: number
}

/** The membership as verified from the log: who is in, with which scopes, and the current epoch. */
export interface MembershipState {
  vaultId: Uint8Array
  /** Index of the last applied op. */
  index: number
  /** Hash of the last applied op. */
  hash: Uint8Array
  epoch: number
  epochStartedAt: number
  /**
   * The epoch the latest removal opened (0 before any): envelopes sealed
   * under an earlier epoch are readable by a removed device, so nothing new
   * may be sealed under one.
   */
  sealFrom: number
  /** Members by hex device id, removed ones included (with removedIndex). */
  members: ReadonlyMap<string, Member>
}

function refuse(code: 'E_CHAIN' | 'E_FORGED' | 'E_NOT_MEMBER' | 'E_REVOKED' | 'E_SCOPE' | 'E_BAD_FRAME' | 'E_MISROUTED' | 'E_REPLAY', message: string): never {
  throw new MindsyncError(code, `membership op refused: ${message}`)
}

/** A current (not removed) member, or undefined. */
export function currentMember(state: MembershipState, deviceId: Uint8Array): Member | undefined {
  const m = state.members.get(idKey(deviceId))
  return m && m.removedIndex === undefined ? m : undefined
}

/** Every current member, in the order they were added. */
export function currentMembers(state: MembershipState): Member[] {
  return [...state.members.values()].filter((m) => m.removedIndex === undefined).sort((a, b) => a.addedIndex - b.addedIndex)
}

/** True when the member holds every bit of `scope`. */
export function hasScope(member: Member, scope: number): boolean {
  return (member.scopes & scope) === scope
}

function checkLockboxes(op: MembershipOp, recipients: Uint8Array[]): void {
  const want = new Set(recipients.map(idKey))
  const got = new Set(op.lockboxes.map((l) => idKey(l.deviceId)))
  if (got.size !== op.lockboxes.length) refuse('E_BAD_FRAME', 'a device has two lockboxes')
  if (want.size !== got.size || [...want].some((k) => !got.has(k))) {
    refuse('E_BAD_FRAME', `lockboxes must go to exactly the ${want.size} device(s) that keep access`)
  }
}

function checkSubject(op: MembershipOp): Uint8Array {
  if (op.signPub.length !== 32 || op.dhPub.length !== 32) refuse('E_BAD_FRAME', 'the device added needs both public keys')
  if (op.target.length !== 0) refuse('E_BAD_FRAME', 'target must be empty for this op')
  if ((op.scopes & ~(ALL_SCOPES | Scope.recovery)) !== 0) refuse('E_BAD_FRAME', `scopes ${op.scopes} has unknown bits`)
  return deviceIdOf(op.signPub)
}

function checkNoSubject(op: MembershipOp): void {
  if (op.signPub.length !== 0 || op.dhPub.length !== 0 || op.scopes !== 0) refuse('E_BAD_FRAME', 'this op takes no device keys or scopes')
}

function genesis(op: MembershipOp): MembershipState {
  if (op.index !== 0 || !sameBytes(op.prevHash, ZERO_HASH)) refuse('E_CHAIN', 'genesis must have index 0 and a zero prevHash')
  const id = checkSubject(op)
  if (op.scopes !== ALL_SCOPES) refuse('E_BAD_FRAME', 'the creating device must hold read, write and admin')
  if (!sameBytes(op.author, id)) refuse('E_FORGED', 'genesis author must be the device it creates')
  if (op.epoch !== 0) refuse('E_BAD_FRAME', 'genesis opens epoch 0')
  if (!verifyOpSignature(op, op.signPub)) refuse('E_FORGED', 'genesis signature does not verify')
  checkLockboxes(op, [id])
  const member: Member = { deviceId: id, signPub: op.signPub, dhPub: op.dhPub, scopes: op.scopes, addedIndex: 0, addedAt: op.time, addedBy: id }
  return { vaultId: op.vaultId, index: 0, hash: opHash(op), epoch: 0, epochStartedAt: op.time, sealFrom: 0, members: new Map([[idKey(id), member]]) }
}

/**
 * Applies one op to a verified state and returns the new state, or throws a
 * MindsyncError naming the reason. Pure: the relay and every device run the
 * same rules, so they agree on who is a member.
 */
export function applyOp(state: MembershipState | undefined, op: MembershipOp): MembershipState {
  if (state === undefined) {
    if (op.type !== OpType.genesis) refuse('E_CHAIN', 'the log must start with a genesis op')
    return genesis(op)
  }
  if (!sameBytes(op.vaultId, state.vaultId)) refuse('E_MISROUTED', 'op is for another vault')
  if (op.index <= state.index) refuse('E_REPLAY', `op ${op.index} is already in the log (head is ${state.index})`)
  if (op.index !== state.index + 1) refuse('E_CHAIN', `op index ${op.index} does not follow head ${state.index}`)
  if (!sameBytes(op.prevHash, state.hash)) refuse('E_CHAIN', 'prevHash does not match the log head')
  if (op.type === OpType.genesis) refuse('E_CHAIN', 'a vault has only one genesis op')
  const known = state.members.get(idKey(op.author))
  if (!known) refuse('E_NOT_MEMBER', 'the author is not a member of this vault')
  if (known.removedIndex !== undefined) refuse('E_REVOKED', 'the author was removed from this vault')
  if (!verifyOpSignature(op, known.signPub)) refuse('E_FORGED', 'signature does not verify under the author key')

  const members = new Map(state.members)
  let { epoch, epochStartedAt, sealFrom } = state
  if (op.type === OpType.addDevice) {
    if (!hasScope(known, Scope.admin) && !hasScope(known, Scope.recovery)) refuse('E_SCOPE', 'adding a device needs admin or recovery scope')
    const id = checkSubject(op)
    if ((op.scopes & Scope.read) === 0) refuse('E_BAD_FRAME', 'a device needs at least read scope')
    if (members.has(idKey(id))) refuse('E_REPLAY', 'that device was already added to this vault')
    if (op.epoch !== state.epoch) refuse('E_BAD_FRAME', `add must name the current epoch ${state.epoch}`)
    checkLockboxes(op, [id])
    members.set(idKey(id), { deviceId: id, signPub: op.signPub, dhPub: op.dhPub, scopes: op.scopes, addedIndex: op.index, addedAt: op.time, addedBy: op.author })
  } else {
    if (!hasScope(known, Scope.admin)) refuse('E_SCOPE', 'removing devices and rotating keys need admin scope')
    checkNoSubject(op)
    if (op.epoch !== state.epoch + 1) refuse('E_BAD_FRAME', `a new epoch must be ${state.epoch + 1}`)
    if (op.type === OpType.removeDevice) {
      if (op.target.length !== DEVICE_ID_BYTES) refuse('E_BAD_FRAME', 'remove needs a target device')
      const target = members.get(idKey(op.target))
      if (!target || target.removedIndex !== undefined) refuse('E_NOT_MEMBER', 'the target is not a current member')
      if (sameBytes(op.target, op.author)) refuse('E_BAD_FRAME', 'a device cannot remove itself')
      members.set(idKey(op.target), { ...target, removedIndex: op.index, removedAt: op.time })
      sealFrom = op.epoch
    } else if (op.target.length !== 0) {
      refuse('E_BAD_FRAME', 'rotate takes no target')
    }
    const keep = [...members.values()].filter((m) => m.removedIndex === undefined)
    checkLockboxes(op, keep.map((m) => m.deviceId))
    epoch = op.epoch
    epochStartedAt = op.time
  }
  return { vaultId: state.vaultId, index: op.index, hash: opHash(op), epoch, epochStartedAt, sealFrom, members }
}

/** Verifies a whole log from genesis; throws at the first op that does not hold. */
export function verifyLog(ops: readonly MembershipOp[]): MembershipState {
  let state: MembershipState | undefined
  for (const op of ops) state = applyOp(state, op)
  if (!state) throw new MindsyncError('E_CHAIN', 'membership log is empty')
  return state
}
