// Raw 32-byte keys <-> Node KeyObjects. Node has no raw-key import for these
// curves; JWK (RFC 8037) is the fast path: under Node 20 it goes straight to
// EVP_PKEY_new_raw_*_key, while a DER import runs OpenSSL 3's generic decoder
// chain, about 10x slower (measured: 77 us vs 730 us for a private key).
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'

const CRV = { ed25519: 'Ed25519', x25519: 'X25519' } as const
// PKCS#8 prefix (RFC 8410) for the slow fallback below.
const PKCS8_PREFIX = {
  ed25519: Buffer.from('302e020100300506032b657004220420', 'hex'),
  x25519: Buffer.from('302e020100300506032b656e04220420', 'hex'),
}

/** Curve whose keys are handled here. */
export type Curve = keyof typeof CRV

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64url')
}

/** Builds a private KeyObject through PKCS#8 DER: the slow, always-available path. */
export function privateFromDer(curve: Curve, secretKey: Uint8Array): KeyObject {
  const prefix = PKCS8_PREFIX[curve]
  // Buffer.alloc (not allocUnsafe) keeps the secret out of Node's shared pool.
  const der = Buffer.alloc(prefix.length + 32)
  prefix.copy(der)
  der.set(secretKey, prefix.length)
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
  } finally {
    der.fill(0)
  }
}

/** Builds a private KeyObject from a 32-byte secret. */
export function privateKeyObject(curve: Curve, secretKey: Uint8Array): KeyObject {
  try {
    // Node derives the public key itself and ignores `x` when `d` is present.
    return createPrivateKey({ key: { kty: 'OKP', crv: CRV[curve], d: b64url(secretKey), x: '' }, format: 'jwk' })
  } catch {
    // Should a Node version insist on a matching `x`, stay correct, only slower.
    return privateFromDer(curve, secretKey)
  }
}

/** Builds a public KeyObject from a 32-byte public key (no validation beyond length). */
export function publicKeyObject(curve: Curve, publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: CRV[curve], x: b64url(publicKey) }, format: 'jwk' })
}

/** The raw 32-byte public key of a private KeyObject. */
export function rawPublicKey(privateKey: KeyObject): Uint8Array {
  const { x } = createPublicKey(privateKey).export({ format: 'jwk' })
  return new Uint8Array(Buffer.from(x as string, 'base64url'))
}
