// X25519 (RFC 7748 section 5).
import type { Backend } from './backends/types.js'
import { PUBLIC_KEY_BYTES } from './constants.js'
import { CryptoError } from './errors.js'
import { assertBytes } from './validate.js'

/** An X25519 key pair. */
export interface DhKeyPair {
  secretKey: Uint8Array
  publicKey: Uint8Array
}

/** X25519 functions bound to a backend. */
export interface X25519 {
  generateDhKeyPair(): DhKeyPair
  dhPublicKey(secretKey: Uint8Array): Uint8Array
  x25519(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array
}

/** Binds X25519 to `backend`, with input checks and the all-zero refusal. */
export function createX25519(backend: Backend, randomBytes: (length: number) => Uint8Array): X25519 {
  return {
    generateDhKeyPair() {
      // Any 32 bytes are a valid secret; clamping happens inside X25519.
      const secretKey = randomBytes(32)
      return { secretKey, publicKey: backend.x25519PublicKey(secretKey) }
    },
    dhPublicKey(secretKey) {
      assertBytes('secretKey', secretKey, 32)
      return backend.x25519PublicKey(secretKey)
    },
    x25519(secretKey, publicKey) {
      assertBytes('secretKey', secretKey, 32)
      assertBytes('publicKey', publicKey, PUBLIC_KEY_BYTES)
      const shared = backend.x25519(secretKey, publicKey)
      // RFC 7748 section 6.1: an all-zero result means publicKey is a
      // low-order point and the "shared" secret is known to everyone.
      if (shared === undefined) {
        throw new CryptoError('E_WEAK_KEY', 'publicKey is a low-order point: the shared secret would be all zero')
      }
      return shared
    },
  }
}
