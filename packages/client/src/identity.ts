import { aeadOpen, aeadSeal, argon2idAsync, createSigner, dhPublicKey, generateDhKeyPair, generateSigningKeyPair, randomBytes, signingPublicKey, toHex, utf8 } from '@mindsync/crypto'
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

/**
 * Passphrase wrapping of the stored identity: Argon2id (RFC 9106; t=2,
 * m=19 MiB, the OWASP floor, about half a second here) derives a key that
 * seals the identity with XChaCha20-Poly1305.
 * wrapped := u8(2) • salt(16) • varUint(t) • varUint(mKiB) • nonce(24) • ciphertext
 */
const WRAP = { t: 2, m: 19 * 1024, p: 1, dkLen: 32 } as const
const WRAP_AAD = utf8.encode('mindsync/v1/identity-wrap')

/** True when stored identity bytes are wrapped with a passphrase. */
export function isWrapped(bytes: Uint8Array): boolean {
  return bytes[0] === 2
}

export async function wrapIdentity(plain: Uint8Array, passphrase: string): Promise<Uint8Array> {
  const salt = randomBytes(16)
  const key = await argon2idAsync(passphrase, salt, WRAP)
  const nonce = randomBytes(24)
  const e = encoding.createEncoder()
  encoding.writeUint8(e, 2)
  encoding.writeUint8Array(e, salt)
  encoding.writeVarUint(e, WRAP.t)
  encoding.writeVarUint(e, WRAP.m)
  encoding.writeUint8Array(e, nonce)
  encoding.writeUint8Array(e, aeadSeal(key, nonce, plain, WRAP_AAD))
  return encoding.toUint8Array(e)
}

export async function unwrapIdentity(wrapped: Uint8Array, passphrase: string | undefined): Promise<Uint8Array> {
  if (passphrase === undefined) {
    throw new MindsyncError('E_LOCKED', "this device's keys are locked with a passphrase: set MINDSYNC_PASSPHRASE or pass --passphrase-file FILE")
  }
  const r = new Reader(wrapped, 'wrapped identity')
  r.u8('version')
  const salt = r.fixed('salt', 16)
  const t = r.varUint('t', 64)
  const m = r.varUint('m', 4 * 1024 * 1024)
  const nonce = r.fixed('nonce', 24)
  const sealed = r.fixed('ciphertext', r.remaining)
  const key = await argon2idAsync(passphrase, salt, { t, m, p: 1, dkLen: 32 })
  try {
    return aeadOpen(key, nonce, sealed, WRAP_AAD)
  } catch {
    throw new MindsyncError('E_LOCKED', 'wrong passphrase: the device keys do not open with it')
  }
}
