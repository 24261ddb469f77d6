// Raw 32-byte keys <-> Node KeyObjects. Node has no raw import for these
// curves, so the raw key is appended to a fixed DER prefix (RFC 8410).
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'

const PKCS8_PREFIX = {
  ed25519: Buffer.from('302e020100300506032b657004220420', 'hex'),
  x25519: Buffer.from('302e020100300506032b656e04220420', 'hex'),
}
const SPKI_PREFIX = {
  ed25519: Buffer.from('302a300506032b6570032100', 'hex'),
  x25519: Buffer.from('302a300506032b656e032100', 'hex'),
}

/** Curve whose keys are handled here. */
export type Curve = keyof typeof PKCS8_PREFIX

/** Builds a private KeyObject from a 32-byte secret; the DER copy is wiped. */
export function privateKeyObject(curve: Curve, secretKey: Uint8Array): KeyObject {
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

/** Builds a public KeyObject from a 32-byte public key. */
export function publicKeyObject(curve: Curve, publicKey: Uint8Array): KeyObject {
  const prefix = SPKI_PREFIX[curve]
  const der = Buffer.alloc(prefix.length + 32)
  prefix.copy(der)
  der.set(publicKey, prefix.length)
  return createPublicKey({ key: der, format: 'der', type: 'spki' })
}

/** The raw 32-byte public key of a private KeyObject. */
export function rawPublicKey(privateKey: KeyObject): Uint8Array {
  const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  return new Uint8Array(der.subarray(der.length - 32))
}
