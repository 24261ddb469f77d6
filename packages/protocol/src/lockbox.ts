import { aeadOpen, aeadSeal, openBox, randomBytes, sealBox, utf8 } from '@mindsync/crypto'
import * as encoding from 'lib0/encoding'
import { concatBytes } from './bytes.js'
import { MindsyncError } from './errors.js'
import { Reader } from './reader.js'

/** Epoch keys by epoch number. */
export type EpochKeys = ReadonlyMap<number, Uint8Array>

function bindTo(vaultId: Uint8Array, epoch: number): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeUint8Array(e, vaultId)
  encoding.writeVarUint(e, epoch)
  return encoding.toUint8Array(e)
}

export interface LockboxContents {
  keys: Map<number, Uint8Array>
  /** Pairing proof (see client pairing): lets a new device check it joined the vault its user meant. Empty otherwise. */
  proof: Uint8Array
}

/**
 * Seals epoch keys to one device's X25519 key; bound to the vault and the op's epoch.
 * lockbox := varUint(count) • (varUint(epoch) • key(32))* • varUint8Array(proof)
 */
export function sealLockbox(recipientDhPub: Uint8Array, keys: EpochKeys, vaultId: Uint8Array, epoch: number, proof: Uint8Array = new Uint8Array(0)): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, keys.size)
  for (const [n, key] of [...keys].sort((a, b) => a[0] - b[0])) {
    encoding.writeVarUint(e, n)
    encoding.writeUint8Array(e, key)
  }
  encoding.writeVarUint8Array(e, proof)
  return sealBox(recipientDhPub, encoding.toUint8Array(e), 'lockbox', bindTo(vaultId, epoch))
}

/** Opens a lockbox with the device's X25519 secret key. */
export function openLockbox(dhSecret: Uint8Array, box: Uint8Array, vaultId: Uint8Array, epoch: number): LockboxContents {
  let plain: Uint8Array
  try {
    plain = openBox(dhSecret, box, 'lockbox', bindTo(vaultId, epoch))
  } catch {
    throw new MindsyncError('E_DECRYPT', 'lockbox does not open with this device key')
  }
  const r = new Reader(plain, 'lockbox')
  const count = r.varUint('count', 1 << 20)
  const keys = new Map<number, Uint8Array>()
  for (let i = 0; i < count; i++) keys.set(r.varUint('epoch'), r.fixed('key', 32))
  const proof = r.bytes('proof', 64)
  r.end()
  return { keys, proof }
}

const META_AAD = utf8.encode('mindsync/v1/meta')

/** Seals small metadata (a device name) under the epoch's meta key: nonce(24) • ciphertext. */
export function sealMeta(metaKey: Uint8Array, value: unknown): Uint8Array {
  const nonce = randomBytes(24)
  return concatBytes(nonce, aeadSeal(metaKey, nonce, utf8.encode(JSON.stringify(value)), META_AAD))
}

/** Opens metadata sealed by sealMeta; throws E_DECRYPT when it does not authenticate. */
export function openMeta(metaKey: Uint8Array, sealed: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(aeadOpen(metaKey, sealed.subarray(0, 24), sealed.subarray(24), META_AAD)))
  } catch {
    throw new MindsyncError('E_DECRYPT', 'metadata does not open under the epoch key')
  }
}
