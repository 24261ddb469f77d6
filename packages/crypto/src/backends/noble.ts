// Portable backend: pure JavaScript, browser-safe (no node:* imports).
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { moveInto } from '../bytes.js'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { blake2b } from '@noble/hashes/blake2.js'
import { sha256 } from '@noble/hashes/sha2.js'
import type { Backend } from './types.js'

// crypto.getRandomValues refuses more than 65,536 bytes per call.
const MAX_RANDOM_CHUNK = 65536

function fillRandom(out: Uint8Array): void {
  for (let i = 0; i < out.length; i += MAX_RANDOM_CHUNK) {
    globalThis.crypto.getRandomValues(out.subarray(i, i + MAX_RANDOM_CHUNK))
  }
}

function aeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array, into?: Uint8Array): Uint8Array | undefined {
  try {
    const plaintext = xchacha20poly1305(key, nonce, aad).decrypt(sealed)
    return into ? moveInto(plaintext, into) : plaintext
  } catch {
    return undefined // noble throws only on a tag mismatch once lengths are valid
  }
}

function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    // zip215: false = RFC 8032 strict: canonical encodings of A and R, S < L.
    return ed25519.verify(signature, message, publicKey, { zip215: false })
  } catch {
    return false
  }
}

function x25519Shared(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array | undefined {
  try {
    return x25519.getSharedSecret(secretKey, publicKey)
  } catch {
    return undefined // noble throws only for low-order points, i.e. an all-zero result
  }
}

/** The portable backend (@noble/ciphers, @noble/curves, @noble/hashes). */
export const backend: Backend = {
  name: 'noble',
  fillRandom,
  aeadSeal: (key, nonce, plaintext, aad) => xchacha20poly1305(key, nonce, aad).encrypt(plaintext),
  aeadOpen,
  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),
  ed25519Sign: (seed, message) => ed25519.sign(message, seed),
  ed25519Signer: (seed) => {
    const copy = seed.slice()
    return (message) => ed25519.sign(message, copy)
  },
  ed25519Verify,
  x25519PublicKey: (secretKey) => x25519.getPublicKey(secretKey),
  x25519: x25519Shared,
  sha256: (data) => sha256(data),
  hmacSha256: (key, data) => hmac(sha256, key, data),
  blake2bMac128: (key, data) => blake2b(data, { key, dkLen: 16 }),
  hkdfSha256: (ikm, salt, info, length) => hkdf(sha256, ikm, salt, info, length),
}
