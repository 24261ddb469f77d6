import { createSigner, dhPublicKey, generateDhKeyPair, generateSigningKeyPair, signingPublicKey, toHex } from '@mindsync/crypto'
import type { Signer } from '@mindsync/crypto'
import { MindsyncError, Reader, deviceIdOf } from '@mindsync/protocol'
import * as encoding from 'lib0/encoding'

/** A device's own keys: Ed25519 to sign, X25519 to receive lockboxes. Generated on the device; never leave it. */
export interface DeviceIdentity {
  deviceId: Uint8Array
  /** Hex device id. */
  id: string
  signPub: Uint8Array
  dhPub: Uint8Array
  dhSecret: Uint8Array
  signer: Signer
  /** Secrets as stored (see encodeIdentity). */
  signSecret: Uint8Array
  name: string
}

function fromSecrets(signSecret: Uint8Array, dhSecret: Uint8Array, name: string): DeviceIdentity {
  const signPub = signingPublicKey(signSecret)
  const deviceId = deviceIdOf(signPub)
  return { deviceId, id: toHex(deviceId), signPub, dhPub: dhPublicKey(dhSecret), dhSecret, signer: createSigner(signSecret), signSecret, name }
}

/** New keys for a new device. */
export function generateIdentity(name: string): DeviceIdentity {
  return fromSecrets(generateSigningKeyPair().secretKey, generateDhKeyPair().secretKey, name)
}

/** Rebuilds an identity from its two 32-byte secrets (used by recovery, which derives them). */
export function identityFromSecrets(signSecret: Uint8Array, dhSecret: Uint8Array, name: string): DeviceIdentity {
  return fromSecrets(signSecret, dhSecret, name)
}

/** identity := u8(1) • signSecret(32) • dhSecret(32) • varString(name) */
export function encodeIdentity(id: DeviceIdentity): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeUint8(e, 1)
  encoding.writeUint8Array(e, id.signSecret)
  encoding.writeUint8Array(e, id.dhSecret)
  encoding.writeVarString(e, id.name)
  return encoding.toUint8Array(e)
}

export function decodeIdentity(bytes: Uint8Array): DeviceIdentity {
  const r = new Reader(bytes, 'device identity')
  if (r.u8('version') !== 1) throw new MindsyncError('E_BAD_FRAME', 'device identity: unknown version', 'version')
  const id = fromSecrets(r.fixed('signSecret', 32), r.fixed('dhSecret', 32), r.string('name', 256))
  r.end()
  return id
}
