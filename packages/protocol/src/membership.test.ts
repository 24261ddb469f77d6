import { describe, expect, it } from 'vitest'
import { expectCode, filled, flipped, testDevice } from '../test-fixtures/helpers.js'
import type { TestDevice } from '../test-fixtures/helpers.js'
import { ZERO_HASH, idKey } from './ids.js'
import { openLockbox, sealLockbox } from './lockbox.js'
import { ALL_SCOPES, OpType, Scope, decodeOp, opHash, signOp, verifyOpSignature } from './membershipOp.js'
import type { MembershipOp, OpFields } from './membershipOp.js'
import { applyOp, currentMember, currentMembers, hasScope, verifyLog } from './membershipState.js'
import type { MembershipState } from './membershipState.js'

const vaultId = filled(16, 0xaa)
const A = testDevice(1) // creates the vault
const B = testDevice(2) // read + write
const C = testDevice(3) // added after B's removal
const R = testDevice(4) // recovery member
const X = testDevice(5) // never a member
const epochKeys = [filled(32, 0x40), filled(32, 0x41), filled(32, 0x42)]
const EMPTY = new Uint8Array(0)
const T0 = 1_700_000_000_000

function keysUpTo(epoch: number): Map<number, Uint8Array> {
  return new Map(epochKeys.slice(0, epoch + 1).map((k, i) => [i, k]))
}

function lockboxesFor(devices: TestDevice[], epoch: number) {
  return devices.map((d) => ({ deviceId: d.deviceId, box: sealLockbox(d.dhPub, keysUpTo(epoch), vaultId, epoch) }))
}

function genesisFields(overrides: Partial<OpFields> = {}): OpFields {
  return {
    type: OpType.genesis,
    vaultId,
    index: 0,
    prevHash: ZERO_HASH,
    author: A.deviceId,
    time: T0,
    epoch: 0,
    signPub: A.signPub,
    dhPub: A.dhPub,
    scopes: ALL_SCOPES,
    target: EMPTY,
    lockboxes: lockboxesFor([A], 0),
    meta: EMPTY,
    ...overrides,
  }
}

function genesis(overrides: Partial<OpFields> = {}, signer = A.signer): MembershipOp {
  return signOp(genesisFields(overrides), signer)
}

/** The next op after `state`, by `author`; the fields a type does not use are empty. */
function nextOp(state: MembershipState, author: TestDevice, fields: Partial<OpFields> & Pick<OpFields, 'type'>, signer = author.signer): MembershipOp {
  return signOp(
    {
      vaultId: state.vaultId,
      index: state.index + 1,
      prevHash: state.hash,
      author: author.deviceId,
      time: T0 + 1000 * (state.index + 1),
      epoch: state.epoch,
      signPub: EMPTY,
      dhPub: EMPTY,
      scopes: 0,
      target: EMPTY,
      lockboxes: [],
      meta: EMPTY,
      ...fields,
    },
    signer,
  )
}

function add(state: MembershipState, author: TestDevice, subject: TestDevice, scopes: number, overrides: Partial<OpFields> = {}): MembershipOp {
  return nextOp(state, author, {
    type: OpType.addDevice,
    signPub: subject.signPub,
    dhPub: subject.dhPub,
    scopes,
    lockboxes: lockboxesFor([subject], state.epoch),
    ...overrides,
  })
}

function rotate(state: MembershipState, author: TestDevice, keep: TestDevice[], overrides: Partial<OpFields> = {}): MembershipOp {
  return nextOp(state, author, { type: OpType.rotate, epoch: state.epoch + 1, lockboxes: lockboxesFor(keep, state.epoch + 1), ...overrides })
}

function remove(state: MembershipState, author: TestDevice, target: TestDevice, keep: TestDevice[], overrides: Partial<OpFields> = {}): MembershipOp {
  return nextOp(state, author, { type: OpType.removeDevice, epoch: state.epoch + 1, target: target.deviceId, lockboxes: lockboxesFor(keep, state.epoch + 1), ...overrides })
}

/** genesis(A) → A adds B (read, write) → A rotates to epoch 1 → A removes B (epoch 2) → A adds C. */
function scenario() {
  const ops: MembershipOp[] = []
  const states: MembershipState[] = []
  const step = (make: (s: MembershipState) => MembershipOp) => {
    const op = make(states[states.length - 1] as MembershipState)
    ops.push(op)
    states.push(applyOp(states[states.length - 1], op))
  }
  ops.push(genesis())
  states.push(applyOp(undefined, ops[0] as MembershipOp))
  step((s) => add(s, A, B, Scope.read | Scope.write))
  step((s) => rotate(s, A, [A, B]))
  step((s) => remove(s, A, B, [A]))
  step((s) => add(s, A, C, Scope.read))
  return { ops, states, head: states[states.length - 1] as MembershipState }
}

describe('membership log: a genesis → add → rotate → remove → add scenario', () => {
  it('builds the expected state at every step', () => {
    const { ops, states, head } = scenario()
    const [s0, s1, s2, s3, s4] = states as [MembershipState, MembershipState, MembershipState, MembershipState, MembershipState]
    expect(s0.index).toBe(0)
    expect(s0.epoch).toBe(0)
    expect(s0.hash).toEqual(opHash(ops[0] as MembershipOp))
    expect(currentMembers(s0).map((m) => idKey(m.deviceId))).toEqual([idKey(A.deviceId)])
    expect(hasScope(currentMember(s0, A.deviceId)!, ALL_SCOPES)).toBe(true)

    expect(currentMembers(s1).map((m) => m.deviceId)).toEqual([A.deviceId, B.deviceId])
    expect(currentMember(s1, B.deviceId)).toMatchObject({ scopes: Scope.read | Scope.write, addedIndex: 1, addedBy: A.deviceId, signPub: B.signPub, dhPub: B.dhPub })
    expect(s1.epoch).toBe(0)

    expect(s2.epoch).toBe(1)
    expect(s2.epochStartedAt).toBe(ops[2]!.time)

    expect(s3.epoch).toBe(2)
    expect(currentMember(s3, B.deviceId)).toBeUndefined()
    expect(s3.members.get(idKey(B.deviceId))).toMatchObject({ removedIndex: 3, removedAt: ops[3]!.time })
    expect(currentMembers(s3).map((m) => m.deviceId)).toEqual([A.deviceId])

    expect(s4.epoch).toBe(2)
    expect(currentMembers(s4).map((m) => m.deviceId)).toEqual([A.deviceId, C.deviceId])
    expect(s4.members.size).toBe(3)
    expect(head.index).toBe(4)
    expect(head.hash).toEqual(opHash(ops[4] as MembershipOp))
    for (let i = 1; i < ops.length; i++) expect(ops[i]!.prevHash).toEqual(opHash(ops[i - 1] as MembershipOp))
  })

  it('does not change the state it is given', () => {
    const { ops, states } = scenario()
    const before = new Map(states[2]!.members)
    applyOp(states[2], ops[3] as MembershipOp)
    expect(states[2]!.members).toEqual(before)
    expect(currentMember(states[2]!, B.deviceId)).toBeDefined()
  })

  it('verifies the whole log, also from the encoded bytes', () => {
    const { ops, head } = scenario()
    expect(verifyLog(ops)).toEqual(head)
    const decoded = ops.map((op) => decodeOp(op.bytes))
    expect(verifyLog(decoded)).toEqual(head)
    for (const [i, op] of decoded.entries()) {
      expect(op.bytes).toEqual(ops[i]!.bytes)
      expect(opHash(op)).toEqual(opHash(ops[i] as MembershipOp))
    }
  })

  it('hands each epoch key only to the devices that keep access', () => {
    const { ops } = scenario()
    const open = (op: MembershipOp, d: TestDevice) => {
      const box = op.lockboxes.find((l) => idKey(l.deviceId) === idKey(d.deviceId))
      return box && openLockbox(d.dhSecret, box.box, vaultId, op.epoch).keys
    }
    expect(open(ops[1]!, B)).toEqual(keysUpTo(0))
    expect(open(ops[2]!, B)).toEqual(keysUpTo(1))
    expect(open(ops[3]!, B)).toBeUndefined() // removed: no epoch-2 key
    expect(open(ops[3]!, A)).toEqual(keysUpTo(2))
    expect(open(ops[4]!, C)).toEqual(keysUpTo(2)) // history stays readable for a new member
  })

  it('refuses an empty log', () => {
    expectCode(() => verifyLog([]), 'E_CHAIN')
  })
})

describe('applyOp refusals', () => {
  const { ops, states } = scenario()
  const s1 = states[1] as MembershipState // A (admin) and B (read, write), epoch 0
  const s3 = states[3] as MembershipState // B removed, epoch 2

  describe('E_CHAIN', () => {
    it('a log that does not start with genesis', () => {
      expectCode(() => applyOp(undefined, ops[1] as MembershipOp), 'E_CHAIN')
    })
    it('a genesis with an index or prevHash', () => {
      expectCode(() => applyOp(undefined, genesis({ index: 1 })), 'E_CHAIN')
      expectCode(() => applyOp(undefined, genesis({ prevHash: filled(32, 1) })), 'E_CHAIN')
    })
    it('a second genesis', () => {
      expectCode(() => applyOp(s1, nextOp(s1, A, { type: OpType.genesis, signPub: A.signPub, dhPub: A.dhPub, scopes: ALL_SCOPES })), 'E_CHAIN')
    })
    it('an index that skips ahead', () => {
      const err = expectCode(() => applyOp(s1, nextOp(s1, A, { type: OpType.rotate, index: 3, epoch: 1, lockboxes: lockboxesFor([A, B], 1) })), 'E_CHAIN')
      expect(err.message).toMatch(/op index 3 does not follow head 1/)
    })
    it('a prevHash that is not the head', () => {
      expectCode(() => applyOp(s1, rotate(s1, A, [A, B], { prevHash: states[0]!.hash })), 'E_CHAIN')
      expectCode(() => applyOp(s1, rotate(s1, A, [A, B], { prevHash: ZERO_HASH })), 'E_CHAIN')
    })
  })

  describe('E_REPLAY', () => {
    it('an op already in the log, sent again', () => {
      expectCode(() => applyOp(states[2], ops[1] as MembershipOp), 'E_REPLAY')
      expectCode(() => applyOp(states[2], ops[2] as MembershipOp), 'E_REPLAY')
      expectCode(() => applyOp(states[4], ops[0] as MembershipOp), 'E_REPLAY')
    })
    it('adding a device that was already added, even after its removal', () => {
      expectCode(() => applyOp(s1, add(s1, A, B, Scope.read)), 'E_REPLAY')
      expectCode(() => applyOp(s3, add(s3, A, B, Scope.read)), 'E_REPLAY')
    })
  })

  describe('E_FORGED', () => {
    it('a signature that does not verify', () => {
      const op = add(s1, A, C, Scope.read)
      const tampered = decodeOp(flipped(op.bytes, op.bytes.length - 1))
      expect(verifyOpSignature(tampered, A.signPub)).toBe(false)
      expectCode(() => applyOp(s1, tampered), 'E_FORGED')
    })
    it('an op signed by another device than its author', () => {
      expectCode(() => applyOp(s1, nextOp(s1, A, { type: OpType.rotate, epoch: 1, lockboxes: lockboxesFor([A, B], 1) }, B.signer)), 'E_FORGED')
    })
    it('a genesis whose author is not the device it creates', () => {
      expectCode(() => applyOp(undefined, genesis({ author: B.deviceId })), 'E_FORGED')
    })
    it('a genesis signed by another key', () => {
      expectCode(() => applyOp(undefined, genesis({}, B.signer)), 'E_FORGED')
    })
    it('a changed field under the original signature, once re-encoded', () => {
      const op = add(s1, A, C, Scope.read)
      const bytes = op.bytes.slice()
      const scopesAt = op.signed.length - 1 /* meta */ - 1 /* box */ - op.lockboxes[0]!.box.length - 16 - 1 /* count */ - 1 /* target */ - 1
      expect(bytes[scopesAt]).toBe(Scope.read)
      bytes[scopesAt] = ALL_SCOPES
      expect(decodeOp(bytes).scopes).toBe(ALL_SCOPES)
      expectCode(() => applyOp(s1, decodeOp(bytes)), 'E_FORGED')
    })
  })

  it('E_NOT_MEMBER: an author that was never added', () => {
    expectCode(() => applyOp(s1, add(s1, X, C, Scope.read)), 'E_NOT_MEMBER')
  })

  it('E_NOT_MEMBER: removing a device that is not a current member', () => {
    expectCode(() => applyOp(s1, remove(s1, A, X, [A, B])), 'E_NOT_MEMBER')
    expectCode(() => applyOp(s3, remove(s3, A, B, [A])), 'E_NOT_MEMBER')
  })

  it('E_REVOKED: an author that was removed', () => {
    expectCode(() => applyOp(s3, add(s3, B, X, Scope.read)), 'E_REVOKED')
  })

  describe('E_SCOPE', () => {
    it('a read-write device adds, removes or rotates', () => {
      expectCode(() => applyOp(s1, add(s1, B, C, Scope.read)), 'E_SCOPE')
      expectCode(() => applyOp(s1, remove(s1, B, A, [B])), 'E_SCOPE')
      expectCode(() => applyOp(s1, rotate(s1, B, [A, B])), 'E_SCOPE')
    })
    it('a recovery member may add a device but not remove one', () => {
      const s2 = applyOp(s1, add(s1, A, R, Scope.read | Scope.recovery))
      const s3r = applyOp(s2, add(s2, R, C, ALL_SCOPES))
      expect(currentMember(s3r, C.deviceId)?.addedBy).toEqual(R.deviceId)
      expectCode(() => applyOp(s3r, remove(s3r, R, A, [B, R, C])), 'E_SCOPE')
      expectCode(() => applyOp(s3r, rotate(s3r, R, [A, B, R, C])), 'E_SCOPE')
    })
  })

  it('E_MISROUTED: an op for another vault', () => {
    expectCode(() => applyOp(s1, add(s1, A, C, Scope.read, { vaultId: filled(16, 0xbb) })), 'E_MISROUTED')
  })

  describe('E_BAD_FRAME', () => {
    it('lockboxes that miss a device, add one, or repeat one', () => {
      expectCode(() => applyOp(s1, rotate(s1, A, [A])), 'E_BAD_FRAME')
      expectCode(() => applyOp(s1, rotate(s1, A, [A, B, C])), 'E_BAD_FRAME')
      expectCode(() => applyOp(s1, rotate(s1, A, [A, A])), 'E_BAD_FRAME')
      expectCode(() => applyOp(s1, rotate(s1, A, [A, B, B])), 'E_BAD_FRAME')
      expectCode(() => applyOp(s1, remove(s1, A, B, [A, B])), 'E_BAD_FRAME') // the removed device keeps no box
      expectCode(() => applyOp(s1, add(s1, A, C, Scope.read, { lockboxes: lockboxesFor([A], 0) })), 'E_BAD_FRAME')
      expectCode(() => applyOp(s1, add(s1, A, C, Scope.read, { lockboxes: [] })), 'E_BAD_FRAME')
      expectCode(() => applyOp(undefined, genesis({ lockboxes: [] })), 'E_BAD_FRAME')
    })
    it('an added device without both public keys', () => {
      expectCode(() => applyOp(s1, add(s1, A, C, Scope.read, { dhPub: EMPTY })), 'E_BAD_FRAME')
      expectCode(() => applyOp(s1, add(s1, A, C, Scope.read, { signPub: EMPTY })), 'E_BAD_FRAME')
      expectCode(() => applyOp(undefined, genesis({ dhPub: EMPTY })), 'E_BAD_FRAME')
    })
    it('a device removing itself', () => {
      expectCode(() => applyOp(s1, remove(s1, A, A, [B])), 'E_BAD_FRAME')
    })
    it('a new epoch that is not the next one', () => {
      expectCode(() => applyOp(s1, rotate(s1, A, [A, B], { epoch: 0 })), 'E_BAD_FRAME')
      expectCode(() => applyOp(s1, rotate(s1, A, [A, B], { epoch: 2 })), 'E_BAD_FRAME')
      expectCode(() => applyOp(s1, remove(s1, A, B, [A], { epoch: 0 })), 'E_BAD_FRAME')
    })
    it('an add that does not name the current epoch', () => {
      expectCode(() => applyOp(s1, add(s1, A, C, Scope.read, { epoch: 1 })), 'E_BAD_FRAME')
    })
    it('scopes: unknown bits, no read, or a genesis device without full scopes', () => {
      expectCode(() => applyOp(s1, add(s1, A, C, Scope.read | 16)), 'E_BAD_FRAME')
      expectCode(() => applyOp(s1, add(s1, A, C, Scope.write)), 'E_BAD_FRAME')
      expectCode(() => applyOp(undefined, genesis({ scopes: Scope.read | Scope.write })), 'E_BAD_FRAME')
    })
    it('a genesis that does not open epoch 0', () => {
      expectCode(() => applyOp(undefined, genesis({ epoch: 1 })), 'E_BAD_FRAME')
    })
    it('fields an op type does not take', () => {
      expectCode(() => applyOp(s1, add(s1, A, C, Scope.read, { target: B.deviceId })), 'E_BAD_FRAME')
      expectCode(() => applyOp(s1, rotate(s1, A, [A, B], { target: B.deviceId })), 'E_BAD_FRAME')
      expectCode(() => applyOp(s1, rotate(s1, A, [A, B], { signPub: C.signPub })), 'E_BAD_FRAME')
      expectCode(() => applyOp(s1, rotate(s1, A, [A, B], { scopes: Scope.read })), 'E_BAD_FRAME')
      expectCode(() => applyOp(s1, remove(s1, A, B, [A], { target: EMPTY })), 'E_BAD_FRAME')
      expectCode(() => applyOp(undefined, genesis({ target: A.deviceId })), 'E_BAD_FRAME')
    })
  })
})

describe('decodeOp', () => {
  const { ops } = scenario()
  const add1 = ops[1] as MembershipOp

  it('returns every field as signed', () => {
    const op = decodeOp(add1.bytes)
    const { signature, signed, bytes, ...fields } = op
    const { signature: _s, signed: _d, bytes: _b, ...expected } = add1
    expect(fields).toEqual(expected)
    expect(signature).toEqual(add1.signature)
    expect(signed).toEqual(add1.signed)
    expect(bytes).toBe(add1.bytes)
  })

  it('refuses an op cut at any length with E_BAD_FRAME naming the field', () => {
    const fields = new Set<string>()
    for (let n = 0; n < add1.bytes.length; n++) {
      const err = expectCode(() => decodeOp(add1.bytes.subarray(0, n)), 'E_BAD_FRAME')
      expect(err.message).toContain(err.field)
      fields.add(err.field as string)
    }
    for (const f of ['version', 'type', 'vaultId', 'index', 'prevHash', 'author', 'time', 'epoch', 'signPub', 'dhPub', 'scopes', 'target length', 'lockboxes count', 'lockboxes[0].deviceId', 'lockboxes[0].box', 'meta length', 'signature']) {
      expect(fields).toContain(f)
    }
  })

  it('refuses trailing bytes, an unknown version or type', () => {
    expectCode(() => decodeOp(Uint8Array.of(...add1.bytes, 0)), 'E_BAD_FRAME', 'end')
    expectCode(() => decodeOp(Uint8Array.of(2, ...add1.bytes.subarray(1))), 'E_BAD_FRAME', 'version')
    for (const t of [0, 5, 0xff]) expectCode(() => decodeOp(Uint8Array.of(1, t, ...add1.bytes.subarray(2))), 'E_BAD_FRAME', 'type')
  })

  it('refuses to sign ids and hashes of the wrong size (they are written without a length)', () => {
    const f = genesisFields()
    expect(expectCode(() => signOp({ ...f, author: Uint8Array.of(...A.deviceId, 0) }, A.signer), 'E_INVALID_INPUT', 'author').message).toBe('membership op: author must be 16 bytes, got 17 bytes')
    expectCode(() => signOp({ ...f, vaultId: new Uint8Array(32) }, A.signer), 'E_INVALID_INPUT', 'vaultId')
    expectCode(() => signOp({ ...f, prevHash: new Uint8Array(16) }, A.signer), 'E_INVALID_INPUT', 'prevHash')
    expectCode(() => signOp({ ...f, lockboxes: [{ ...f.lockboxes[0]!, deviceId: new Uint8Array(15) }] }, A.signer), 'E_INVALID_INPUT', 'lockboxes[0].deviceId')
  })

  it('refuses keys and targets of the wrong length', () => {
    const f = genesisFields()
    expectCode(() => decodeOp(signOp({ ...f, signPub: A.signPub.subarray(0, 31) }, A.signer).bytes), 'E_BAD_FRAME', 'signPub')
    expectCode(() => decodeOp(signOp({ ...f, signPub: Uint8Array.of(...A.signPub, 0) }, A.signer).bytes), 'E_BAD_FRAME', 'signPub')
    expectCode(() => decodeOp(signOp({ ...f, dhPub: A.dhPub.subarray(0, 1) }, A.signer).bytes), 'E_BAD_FRAME', 'dhPub')
    expectCode(() => decodeOp(signOp({ ...f, target: new Uint8Array(15) }, A.signer).bytes), 'E_BAD_FRAME', 'target')
    expectCode(() => decodeOp(signOp({ ...f, target: new Uint8Array(17) }, A.signer).bytes), 'E_BAD_FRAME', 'target')
  })

  it('refuses values over their limits', () => {
    const f = genesisFields()
    expectCode(() => decodeOp(signOp({ ...f, scopes: 0x100 }, A.signer).bytes), 'E_BAD_FRAME', 'scopes')
    expectCode(() => decodeOp(signOp({ ...f, epoch: 2 ** 32 }, A.signer).bytes), 'E_BAD_FRAME', 'epoch')
    expectCode(() => decodeOp(signOp({ ...f, meta: new Uint8Array(4097) }, A.signer).bytes), 'E_BAD_FRAME', 'meta')
    expect(decodeOp(signOp({ ...f, meta: new Uint8Array(4096) }, A.signer).bytes).meta).toHaveLength(4096)
    const many = Array.from({ length: 1025 }, () => ({ deviceId: A.deviceId, box: EMPTY }))
    expectCode(() => decodeOp(signOp({ ...f, lockboxes: many }, A.signer).bytes), 'E_BAD_FRAME', 'lockboxes count')
    const big = [{ deviceId: A.deviceId, box: new Uint8Array(64 * 1024 + 1) }]
    expectCode(() => decodeOp(signOp({ ...f, lockboxes: big }, A.signer).bytes), 'E_BAD_FRAME', 'lockboxes[0].box')
  })
})
