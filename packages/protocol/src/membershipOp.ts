import { hashParts, utf8, verify } from '@mindsync/crypto'
import type { Signer } from '@mindsync/crypto'
import * as encoding from 'lib0/encoding'
import { concatBytes } from './bytes.js'
import { MindsyncError } from './errors.js'
import { DEVICE_ID_BYTES, HASH_BYTES, VAULT_ID_BYTES, assertIdSize } from './ids.js'
import { PROTOCOL_VERSION, SIGNATURE_BYTES } from './envelope.js'
import { Reader } from './reader.js'

/** Membership operation types. */
export const OpType = { genesis: 1, addDevice: 2, removeDevice: 3, rotate: 4 } as const
export type OpType = (typeof OpType)[keyof typeof OpType]
const OP_TYPES = new Set<number>(Object.values(OpType))

/** Scope bits: `read` may read, `write` may log practice, `admin` may add and remove devices, `recovery` (with read) may only add devices. */
export const Scope = { read: 1, write: 2, admin: 4, recovery: 8 } as const
export const ALL_SCOPES = Scope.read | Scope.write | Scope.admin

export interface Lockbox {
  deviceId: Uint8Array
  box: Uint8Array
}

/** The fields of an op, before signing. One layout for every type; each type uses the fields it needs. */
export interface OpFields {
  type: OpType
  vaultId: Uint8Array
  /** Position in the log, from 0 (the genesis op). */
  index: number
  /** Hash of the previous op; zeros for genesis. */
  prevHash: Uint8Array
  /** Device id of the signer. */
  author: Uint8Array
  /** Milliseconds since the epoch, as claimed by the author. */
  time: number
  /** Genesis: 0; add: the current epoch; remove and rotate: the new epoch. */
  epoch: number
  /** Genesis and add: the subject device's Ed25519 public key; otherwise empty. */
  signPub: Uint8Array
  /** Genesis and add: the subject device's X25519 public key; otherwise empty. */
  dhPub: Uint8Array
  /** Genesis and add: scope bits of the subject device; otherwise 0. */
  scopes: number
  /** Remove: the device removed; otherwise empty. */
  target: Uint8Array
  /** Epoch keys sealed to devices (see lockbox.ts). */
  lockboxes: Lockbox[]
  /** Sealed metadata (device name) under the epoch's meta key; may be empty. */
  meta: Uint8Array
}

export interface MembershipOp extends OpFields {
  signature: Uint8Array
  signed: Uint8Array
  bytes: Uint8Array
}

const SIGN_CONTEXT = utf8.encode('mindsync/v1/op\0')
const MAX_LOCKBOXES = 1024
const MAX_BOX_BYTES = 64 * 1024
const MAX_META_BYTES = 4096

function encodeFields(f: OpFields): Uint8Array {
  assertIdSize('membership op', 'vaultId', f.vaultId, VAULT_ID_BYTES)
  assertIdSize('membership op', 'prevHash', f.prevHash, HASH_BYTES)
  assertIdSize('membership op', 'author', f.author, DEVICE_ID_BYTES)
  for (const [i, l] of f.lockboxes.entries()) assertIdSize('membership op', `lockboxes[${i}].deviceId`, l.deviceId, DEVICE_ID_BYTES)
  const e = encoding.createEncoder()
  encoding.writeUint8(e, PROTOCOL_VERSION)
  encoding.writeUint8(e, f.type)
  encoding.writeUint8Array(e, f.vaultId)
  encoding.writeVarUint(e, f.index)
  encoding.writeUint8Array(e, f.prevHash)
  encoding.writeUint8Array(e, f.author)
  encoding.writeVarUint(e, f.time)
  encoding.writeVarUint(e, f.epoch)
  encoding.writeVarUint8Array(e, f.signPub)
  encoding.writeVarUint8Array(e, f.dhPub)
  encoding.writeVarUint(e, f.scopes)
  encoding.writeVarUint8Array(e, f.target)
  encoding.writeVarUint(e, f.lockboxes.length)
  for (const l of f.lockboxes) {
    encoding.writeUint8Array(e, l.deviceId)
    encoding.writeVarUint8Array(e, l.box)
  }
  encoding.writeVarUint8Array(e, f.meta)
  return encoding.toUint8Array(e)
}

/** Encodes and signs an op. */
export function signOp(fields: OpFields, signer: Signer): MembershipOp {
  const signed = encodeFields(fields)
  const signature = signer.sign(concatBytes(SIGN_CONTEXT, signed))
  const bytes = concatBytes(signed, signature)
  return { ...fields, signature: bytes.subarray(signed.length), signed: bytes.subarray(0, signed.length), bytes }
}

function optionalKey(r: Reader, field: string): Uint8Array {
  const k = r.bytes(field, 32)
  if (k.length !== 0 && k.length !== 32) {
    throw new MindsyncError('E_BAD_FRAME', `membership op: ${field} must be empty or 32 bytes, got ${k.length}`, field)
  }
  return k
}

/** Decodes an op and checks its structure (not its signature or place in the log). */
export function decodeOp(bytes: Uint8Array): MembershipOp {
  const r = new Reader(bytes, 'membership op')
  const version = r.u8('version')
  if (version !== PROTOCOL_VERSION) {
    throw new MindsyncError('E_BAD_FRAME', `membership op: version ${version} is not supported`, 'version')
  }
  const type = r.u8('type')
  if (!OP_TYPES.has(type)) throw new MindsyncError('E_BAD_FRAME', `membership op: type ${type} is unknown`, 'type')
  const vaultId = r.fixed('vaultId', VAULT_ID_BYTES)
  const index = r.varUint('index')
  const prevHash = r.fixed('prevHash', HASH_BYTES)
  const author = r.fixed('author', DEVICE_ID_BYTES)
  const time = r.varUint('time')
  const epoch = r.varUint('epoch', 0xffffffff)
  const signPub = optionalKey(r, 'signPub')
  const dhPub = optionalKey(r, 'dhPub')
  const scopes = r.varUint('scopes', 0xff)
  const target = r.bytes('target', DEVICE_ID_BYTES)
  if (target.length !== 0 && target.length !== DEVICE_ID_BYTES) {
    throw new MindsyncError('E_BAD_FRAME', `membership op: target must be empty or ${DEVICE_ID_BYTES} bytes`, 'target')
  }
  const count = r.varUint('lockboxes count', MAX_LOCKBOXES)
  const lockboxes: Lockbox[] = []
  for (let i = 0; i < count; i++) {
    lockboxes.push({ deviceId: r.fixed(`lockboxes[${i}].deviceId`, DEVICE_ID_BYTES), box: r.bytes(`lockboxes[${i}].box`, MAX_BOX_BYTES) })
  }
  const meta = r.bytes('meta', MAX_META_BYTES)
  const signedEnd = r.position
  const signature = r.fixed('signature', SIGNATURE_BYTES)
  r.end()
  return {
    type: type as OpType,
    vaultId,
    index,
    prevHash,
    author,
    time,
    epoch,
    signPub,
    dhPub,
    scopes,
    target,
    lockboxes,
    meta,
    signature,
    signed: bytes.subarray(0, signedEnd),
    bytes,
  }
}

/** True when the op's signature verifies under the given Ed25519 public key. */
export function verifyOpSignature(op: MembershipOp, signingPublicKey: Uint8Array): boolean {
  return verify(signingPublicKey, concatBytes(SIGN_CONTEXT, op.signed), op.signature)
}

/** The hash the next op names as prevHash. */
export function opHash(op: MembershipOp): Uint8Array {
  return hashParts('mindsync/v1/op-hash', op.signed)
}
