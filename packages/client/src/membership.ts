import { constantTimeEqual, randomBytes, toHex } from '@mindsync/crypto'
import {
  ALL_SCOPES,
  MindsyncError,
  OpType,
  ZERO_HASH,
  applyOp,
  currentMember,
  currentMembers,
  deriveKey,
  deviceIdOf,
  idKey,
  newVaultId,
  openLockbox,
  openMeta,
  pairTagKey,
  sameBytes,
  sealLockbox,
  sealMeta,
  signOp,
} from '@mindsync/protocol'
import type { KeyPurpose, Member, MembershipOp, MembershipState, OpFields } from '@mindsync/protocol'
import type { DeviceIdentity } from './identity.js'
import { pairingProof } from './pairing.js'
import type { PairingOffer } from './pairing.js'

/** Per hex doc id, a removed device's last envelope: [seq, hex hash] ([0, ''] when it wrote none). */
export type RemovalHeads = Record<string, [number, string]>

function parseHeads(value: unknown): RemovalHeads | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const out: RemovalHeads = {}
  for (const [doc, head] of Object.entries(value)) {
    if (!Array.isArray(head) || !Number.isSafeInteger(head[0]) || typeof head[1] !== 'string') return undefined
    out[doc] = [head[0] as number, head[1] as string]
  }
  return out
}

/** The verified membership log as this device sees it, with the epoch keys its lockboxes opened. */
export class Membership {
  readonly ops: MembershipOp[] = []
  state: MembershipState | undefined
  /** Epoch keys this device holds, by epoch. */
  readonly keys = new Map<number, Uint8Array>()
  private readonly names = new Map<string, string>()
  private readonly derived = new Map<KeyPurpose, Map<number, Uint8Array>>()
  private readonly pairKeys = new Map<number, Map<string, Uint8Array | undefined>>()
  private readonly heads = new Map<number, RemovalHeads | undefined>()

  constructor(
    private readonly identity: DeviceIdentity,
    /** Set on a device that offered a pairing code: its add op must carry the matching proof. */
    public pairingSecret?: Uint8Array,
  ) {}

  get vaultId(): Uint8Array | undefined {
    return this.state?.vaultId
  }

  get length(): number {
    return this.ops.length
  }

  /** Verifies and applies the next op of the log; throws a MindsyncError naming the reason. */
  apply(op: MembershipOp): void {
    const next = applyOp(this.state, op)
    const mine = op.lockboxes.find((l) => sameBytes(l.deviceId, this.identity.deviceId))
    if (mine) {
      const { keys, proof } = openLockbox(this.identity.dhSecret, mine.box, next.vaultId, op.epoch)
      if (op.type === OpType.addDevice && sameBytes(op.signPub, this.identity.signPub) && this.pairingSecret) {
        if (!constantTimeEqual(proof, pairingProof(this.pairingSecret, next.vaultId))) {
          throw new MindsyncError('E_FORGED', 'the vault this device was added to is not the one whose member accepted its pairing code')
        }
      }
      for (const [epoch, key] of keys) this.keys.set(epoch, key)
    }
    this.state = next
    this.ops.push(op)
  }

  /** The name a device was given when it was added (sealed in its op's metadata), once this device holds that epoch's key. */
  nameOf(deviceId: Uint8Array): string | undefined {
    const hex = toHex(deviceId)
    const cached = this.names.get(hex)
    if (cached !== undefined) return cached
    const member = this.member(deviceId)
    const op = member && this.ops[member.addedIndex]
    const key = op && op.meta.length > 0 && this.derivedKey(op.epoch, 'meta')
    if (!op || !key) return undefined
    try {
      const meta = openMeta(key, op.meta) as { name?: unknown }
      if (typeof meta.name === 'string') this.names.set(hex, meta.name)
    } catch {
      // A name that does not open is shown as unnamed; the op itself is verified.
    }
    return this.names.get(hex)
  }

  /**
   * The last envelope per doc (hex doc id) of a removed device, as its removal
   * recorded them; undefined when the device is not removed or its removal
   * recorded none (then only the epoch rule applies).
   */
  removalHeads(deviceId: Uint8Array): RemovalHeads | undefined {
    const index = this.member(deviceId)?.removedIndex
    if (index === undefined) return undefined
    if (this.heads.has(index)) return this.heads.get(index)
    const op = this.ops[index]
    const key = op && op.meta.length > 0 && this.derivedKey(op.epoch, 'meta')
    let heads: RemovalHeads | undefined
    if (op && key) {
      try {
        heads = parseHeads((openMeta(key, op.meta) as { heads?: unknown }).heads)
      } catch {
        heads = undefined // signed by an admin but unreadable: only the epoch rule applies
      }
    }
    this.heads.set(index, heads)
    return heads
  }

  /** A key derived from an epoch key for one purpose, cached. */
  derivedKey(epoch: number, purpose: KeyPurpose): Uint8Array | undefined {
    let byEpoch = this.derived.get(purpose)
    if (!byEpoch) this.derived.set(purpose, (byEpoch = new Map()))
    let k = byEpoch.get(epoch)
    if (!k) {
      const epochKey = this.keys.get(epoch)
      if (!epochKey) return undefined
      byEpoch.set(epoch, (k = deriveKey(epochKey, purpose)))
    }
    return k
  }

  /**
   * The receiver-tag key this device shares with another member for one
   * epoch (tags.ts), cached; undefined without the epoch key or a usable
   * X25519 key (a recovery member has none).
   */
  pairKey(deviceId: Uint8Array, epoch: number, hex: string = idKey(deviceId)): Uint8Array | undefined {
    let byDevice = this.pairKeys.get(epoch)
    if (!byDevice) this.pairKeys.set(epoch, (byDevice = new Map()))
    if (byDevice.has(hex)) return byDevice.get(hex)
    const tagKey = this.derivedKey(epoch, 'tags')
    const peer = this.member(deviceId, hex)
    let key: Uint8Array | undefined
    if (tagKey && peer && peer.dhPub.length > 0) {
      try {
        key = pairTagKey(tagKey, this.identity.dhSecret, peer.dhPub, this.identity.deviceId, deviceId)
      } catch {
        key = undefined // a weak X25519 key: that member's envelopes are checked by signature
      }
    }
    // Not cached while the epoch key or the member is missing: either may arrive with the next op.
    if (tagKey && peer) byDevice.set(hex, key)
    return key
  }

  /** This device as a current member, or undefined (not admitted yet, or removed). */
  self(): Member | undefined {
    return this.state && currentMember(this.state, this.identity.deviceId)
  }

  /** A member, removed ones included; `hex` spares converting an id the caller already has as hex. */
  member(deviceId: Uint8Array, hex: string = idKey(deviceId)): Member | undefined {
    return this.state?.members.get(hex)
  }

  /** Every current member, in the order added (the same array until the membership changes). */
  members(): readonly Member[] {
    const state = this.state
    if (!state) return []
    if (this.membersOf?.state !== state) this.membersOf = { state, list: currentMembers(state) }
    return this.membersOf.list
  }
  private membersOf: { state: MembershipState; list: readonly Member[] } | undefined

  /** Signs an op for the next index of this log. */
  private sign(fields: Omit<OpFields, 'vaultId' | 'index' | 'prevHash' | 'author'>): MembershipOp {
    const state = this.state
    if (!state) throw new MindsyncError('E_NOT_INITIALIZED', 'this device has no vault yet')
    return signOp({ ...fields, vaultId: state.vaultId, index: state.index + 1, prevHash: state.hash, author: this.identity.deviceId }, this.identity.signer)
  }

  /** An add-device op for a pairing offer: a lockbox with every epoch key and the pairing proof. */
  addDeviceOp(offer: PairingOffer, scopes: number, time: number): MembershipOp {
    const state = this.requireState()
    const metaKey = this.derivedKey(state.epoch, 'meta')
    return this.sign({
      type: OpType.addDevice,
      time,
      epoch: state.epoch,
      signPub: offer.signPub,
      dhPub: offer.dhPub,
      scopes,
      target: new Uint8Array(0),
      lockboxes: [
        {
          deviceId: deviceIdOf(offer.signPub),
          box: sealLockbox(offer.dhPub, this.keys, state.vaultId, state.epoch, pairingProof(offer.secret, state.vaultId)),
        },
      ],
      meta: metaKey ? sealMeta(metaKey, { name: offer.name }) : new Uint8Array(0),
    })
  }

  /**
   * An op that opens a new epoch (a removal or a rotation): a fresh key sealed
   * to every device that stays. A removal records, sealed under the new key,
   * the removed device's last envelope per doc (`heads`): devices refuse any
   * later envelope of it, so its stolen keys cannot add backdated writes.
   */
  newEpochOp(time: number, target?: Uint8Array, heads?: RemovalHeads): MembershipOp {
    const state = this.requireState()
    const epoch = state.epoch + 1
    const key = randomBytes(32)
    const keep = this.members().filter((m) => !target || !sameBytes(m.deviceId, target))
    return this.sign({
      type: target ? OpType.removeDevice : OpType.rotate,
      time,
      epoch,
      signPub: new Uint8Array(0),
      dhPub: new Uint8Array(0),
      scopes: 0,
      target: target ?? new Uint8Array(0),
      lockboxes: keep.map((m) => ({ deviceId: m.deviceId, box: sealLockbox(m.dhPub, new Map([[epoch, key]]), state.vaultId, epoch) })),
      meta: target && heads ? sealMeta(deriveKey(key, 'meta'), { heads }) : new Uint8Array(0),
    })
  }

  requireState(): MembershipState {
    if (!this.state) throw new MindsyncError('E_NOT_INITIALIZED', 'this device has no vault yet')
    return this.state
  }
}

/** The genesis op of a new vault, with a fresh epoch-0 key sealed to the creating device. */
export function genesisOp(identity: DeviceIdentity, time: number): MembershipOp {
  const vaultId = newVaultId()
  const epochKey = randomBytes(32)
  const keys = new Map([[0, epochKey]])
  const fields: OpFields = {
    type: OpType.genesis,
    vaultId,
    index: 0,
    prevHash: ZERO_HASH,
    author: identity.deviceId,
    time,
    epoch: 0,
    signPub: identity.signPub,
    dhPub: identity.dhPub,
    scopes: ALL_SCOPES,
    target: new Uint8Array(0),
    lockboxes: [{ deviceId: identity.deviceId, box: sealLockbox(identity.dhPub, keys, vaultId, 0) }],
    meta: sealMeta(deriveKey(epochKey, 'meta'), { name: identity.name }),
  }
  return signOp(fields, identity.signer)
}

