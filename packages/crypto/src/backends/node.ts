// Native backend for Node: OpenSSL through node:crypto wherever Node has the
// primitive; noble for HChaCha20 (inside node-xchacha.ts) and as the strict
// reference where OpenSSL is more lenient.
import { ed25519 } from '@noble/curves/ed25519.js'
import { blake2b } from '@noble/hashes/blake2.js'
import * as nodeCrypto from 'node:crypto'
import { createHash, createHmac, diffieHellman, hkdfSync, randomFillSync, type KeyObject } from 'node:crypto'
import { fromBuffer } from './node-bytes.js'
import { createLru } from './node-lru.js'
import { privateKeyObject, publicKeyObject, rawPublicKey } from './node-keys.js'
import { xchachaOpen, xchachaSeal } from './node-xchacha.js'
import type { Backend } from './types.js'

// Public KeyObjects of recently seen verification keys (null: key refused).
// Building one costs more than the verification itself.
const verifyKeys = createLru<KeyObject | null>(1024)

// OpenSSL accepts small-order public keys, for which anyone can make a
// signature that verifies (S = 0, R = -kA) on about one message in eight.
// noble's strict mode refuses them, and so do we: the key must decode
// canonically (RFC 8032 section 5.1.3) to a point that is not of small order.
// Checked once per key, then cached with the key.
function acceptableKey(publicKey: Uint8Array): boolean {
  try {
    return !ed25519.Point.fromBytes(publicKey, false).isSmallOrder()
  } catch {
    return false
  }
}

function verifyKey(publicKey: Uint8Array): KeyObject | null {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.length).toString('latin1')
  let key = verifyKeys.get(id)
  if (key === undefined) {
    key = null
    if (acceptableKey(publicKey)) {
      try {
        key = publicKeyObject('ed25519', publicKey)
      } catch {
        // OpenSSL refused the key: leave null.
      }
    }
    verifyKeys.set(id, key)
  }
  return key
}

function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const key = verifyKey(publicKey)
  if (key === null) return false
  try {
    return nodeCrypto.verify(null, message, key, signature)
  } catch {
    return false
  }
}

function x25519(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array | undefined {
  let shared: Buffer
  try {
    shared = diffieHellman({
      privateKey: privateKeyObject('x25519', secretKey),
      publicKey: publicKeyObject('x25519', publicKey),
    })
  } catch {
    return undefined // OpenSSL refuses exactly the all-zero result (RFC 7748 section 6.1)
  }
  let acc = 0
  for (const byte of shared) acc |= byte
  return acc === 0 ? undefined : fromBuffer(shared)
}

// crypto.hash (one call, no Hash object) exists from Node 20.12.
const hashOnce = (nodeCrypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash

/** The native backend (node:crypto, OpenSSL). */
export const backend: Backend = {
  name: 'node',
  fillRandom: (out) => {
    randomFillSync(out)
  },
  aeadSeal: xchachaSeal,
  aeadOpen: xchachaOpen,
  ed25519PublicKey: (seed) => rawPublicKey(privateKeyObject('ed25519', seed)),
  ed25519Sign: (seed, message) => fromBuffer(nodeCrypto.sign(null, message, privateKeyObject('ed25519', seed))),
  ed25519Signer: (seed) => {
    const key = privateKeyObject('ed25519', seed)
    return (message) => fromBuffer(nodeCrypto.sign(null, message, key))
  },
  ed25519Verify,
  x25519PublicKey: (secretKey) => rawPublicKey(privateKeyObject('x25519', secretKey)),
  x25519,
  sha256: hashOnce
    ? (data) => fromBuffer(hashOnce('sha256', data, 'buffer'))
    : (data) => fromBuffer(createHash('sha256').update(data).digest()),
  hmacSha256: (key, data) => fromBuffer(createHmac('sha256', key).update(data).digest()),
  // node:crypto has BLAKE2b only unkeyed: noble's keyed BLAKE2b (libsodium's, in the sodium backend, is the fast one).
  blake2bMac128: (key, data) => blake2b(data, { key, dkLen: 16 }),
  hkdfSha256: (ikm, salt, info, length) =>
    new Uint8Array(hkdfSync('sha256', ikm, salt ?? new Uint8Array(0), info, length)),
}
