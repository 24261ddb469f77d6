import { createSigner, generateDhKeyPair, generateSigningKeyPair, randomBytes, sign, toHex, utf8 } from '@mindsync/crypto'
import type { DhKeyPair, Signer, SigningKeyPair } from '@mindsync/crypto'
import {
  ALL_SCOPES,
  EnvelopeKind,
  OpType,
  ZERO_HASH,
  applyOp,
  authMessage,
  currentMembers,
  deriveKey,
  deviceIdOf,
  envelopeHash,
  newVaultId,
  sealEnvelope,
  sealLockbox,
  signOp,
} from '@mindsync/protocol'
import type { CoveredHead, Envelope, Lockbox, MembershipOp, MembershipState, OpFields, OpType as OpTypeValue } from '@mindsync/protocol'

/** A device with fresh keys, as a test stands it up. */
export interface TestDevice {
  signing: SigningKeyPair
  signer: Signer
  dh: DhKeyPair
  signPub: Uint8Array
  deviceId: Uint8Array
}

export function createTestDevice(): TestDevice {
  const signing = generateSigningKeyPair()
  return { signing, signer: createSigner(signing.secretKey), dh: generateDhKeyPair(), signPub: signing.publicKey, deviceId: deviceIdOf(signing.publicKey) }
}

/** The signature a device sends to authenticate (see `authMessage`). */
export function signAuth(device: TestDevice, relayId: Uint8Array, vaultId: Uint8Array | undefined, challenge: Uint8Array): Uint8Array {
  return sign(device.signing.secretKey, authMessage(relayId, vaultId ?? new Uint8Array(16), challenge))
}

export interface EnvelopeOptions {
  kind?: EnvelopeKind
  /** Overrides for chain tests; by default the next seq and the right prevHash. */
  seq?: number
  prevHash?: Uint8Array
  epoch?: number
  /** Do not advance the local chain (to build a competing envelope). */
  detached?: boolean
  /** Snapshots only: the heads the snapshot covers (see `coveredHeads`). */
  covers?: CoveredHead[]
}

/** What a snapshot holding `envelopes` covers: each author's highest-seq envelope among them. */
export function coveredHeads(envelopes: readonly Envelope[]): CoveredHead[] {
  const last = new Map<string, Envelope>()
  for (const e of envelopes) {
    const key = toHex(e.header.deviceId)
    if ((last.get(key)?.header.seq ?? 0) < e.header.seq) last.set(key, e)
  }
  return [...last.values()].map((e) => ({ deviceId: e.header.deviceId, seq: e.header.seq, hash: envelopeHash(e) }))
}

/**
 * A vault as its devices see it, for tests: builds signed membership ops and
 * sealed envelopes that a relay accepts, and tracks the chains locally.
 */
export interface TestVault {
  readonly vaultId: Uint8Array
  readonly ops: MembershipOp[]
  readonly state: MembershipState
  readonly genesis: MembershipOp
  addDevice(by: TestDevice, device: TestDevice, scopes?: number): MembershipOp
  removeDevice(by: TestDevice, target: TestDevice): MembershipOp
  rotate(by: TestDevice): MembershipOp
  /** A sealed, signed envelope from `device` for `docId`, next in its chain. */
  envelope(device: TestDevice, docId: Uint8Array, text: string, options?: EnvelopeOptions): Envelope
  awareness(device: TestDevice, docId: Uint8Array, text: string): Envelope
  /** A snapshot from `device`, next in its chain, covering each author's last envelope among `holds`. */
  snapshot(device: TestDevice, docId: Uint8Array, text: string, holds: readonly Envelope[], options?: EnvelopeOptions): Envelope
}

/** A random 16-byte doc id (what `docIdOf` gives a real client). */
export const testDocId = (): Uint8Array => randomBytes(16)

export function createTestVault(owner: TestDevice, vaultId: Uint8Array = newVaultId()): TestVault {
  const epochKeys = new Map<number, Uint8Array>([[0, randomBytes(32)]])
  const dhKeys = new Map<string, Uint8Array>([[toHex(owner.deviceId), owner.dh.publicKey]])
  const chains = new Map<string, { seq: number; hash: Uint8Array }>()
  const ops: MembershipOp[] = []
  let state: MembershipState | undefined

  function build(by: TestDevice, type: OpTypeValue, fields: Partial<OpFields>, epoch: number, recipients: Uint8Array[]): MembershipOp {
    const lockboxes: Lockbox[] = recipients.map((id) => ({ deviceId: id, box: sealLockbox(dhKeys.get(toHex(id)) as Uint8Array, epochKeys, vaultId, epoch) }))
    const op = signOp(
      {
        type,
        vaultId,
        index: state ? state.index + 1 : 0,
        prevHash: state ? state.hash : ZERO_HASH,
        author: by.deviceId,
        time: Date.now(),
        epoch,
        signPub: new Uint8Array(0),
        dhPub: new Uint8Array(0),
        scopes: 0,
        target: new Uint8Array(0),
        lockboxes,
        meta: new Uint8Array(0),
        ...fields,
      },
      by.signer,
    )
    state = applyOp(state, op)
    ops.push(op)
    return op
  }

  const genesis = build(owner, OpType.genesis, { signPub: owner.signPub, dhPub: owner.dh.publicKey, scopes: ALL_SCOPES }, 0, [owner.deviceId])
  const current = (): MembershipState => state as MembershipState
  const newEpoch = (): number => {
    const epoch = current().epoch + 1
    epochKeys.set(epoch, randomBytes(32))
    return epoch
  }

  const vault: TestVault = {
    vaultId,
    ops,
    genesis,
    get state() {
      return current()
    },
    addDevice(by, device, scopes = ALL_SCOPES) {
      dhKeys.set(toHex(device.deviceId), device.dh.publicKey)
      return build(by, OpType.addDevice, { signPub: device.signPub, dhPub: device.dh.publicKey, scopes }, current().epoch, [device.deviceId])
    },
    removeDevice(by, target) {
      const epoch = newEpoch()
      const keep = currentMembers(current())
        .map((m) => m.deviceId)
        .filter((id) => toHex(id) !== toHex(target.deviceId))
      return build(by, OpType.removeDevice, { target: target.deviceId }, epoch, keep)
    },
    rotate(by) {
      const epoch = newEpoch()
      return build(by, OpType.rotate, {}, epoch, currentMembers(current()).map((m) => m.deviceId))
    },
    envelope(device, docId, text, options = {}) {
      const key = `${toHex(device.deviceId)}:${toHex(docId)}`
      const chain = chains.get(key) ?? { seq: 0, hash: ZERO_HASH }
      const epoch = options.epoch ?? current().epoch
      const env = sealEnvelope({
        kind: options.kind ?? EnvelopeKind.update,
        vaultId,
        docId,
        epoch,
        deviceId: device.deviceId,
        seq: options.seq ?? chain.seq + 1,
        prevHash: options.prevHash ?? chain.hash,
        key: deriveKey(epochKeys.get(epoch) ?? randomBytes(32), 'envelope'),
        signer: device.signer,
        plaintext: utf8.encode(text),
        ...(options.covers ? { covers: options.covers } : {}),
      })
      if (!options.detached) chains.set(key, { seq: env.header.seq, hash: envelopeHash(env) })
      return env
    },
    awareness(device, docId, text) {
      return vault.envelope(device, docId, text, { kind: EnvelopeKind.awareness, seq: 0, prevHash: ZERO_HASH, detached: true })
    },
    snapshot(device, docId, text, holds, options = {}) {
      return vault.envelope(device, docId, text, { kind: EnvelopeKind.snapshot, covers: coveredHeads(holds), ...options })
    },
  }
  return vault
}
