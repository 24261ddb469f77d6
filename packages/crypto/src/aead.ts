// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03): 192-bit nonces, so random
// nonces are safe for any realistic number of messages under one key.
import type { Backend } from './backends/types.js'
import { EMPTY } from './bytes.js'
import { KEY_BYTES, NONCE_BYTES, TAG_BYTES } from './constants.js'
import { CryptoError } from './errors.js'
import { assertBytes, assertOptionalBytes } from './validate.js'

/** AEAD functions bound to a backend. */
export interface Aead {
  aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array
  /** `into`, when given, receives the plaintext (sealed.length − 16 bytes) and is returned; it holds no plaintext when authentication fails. */
  aeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array, into?: Uint8Array): Uint8Array
}

/** Binds XChaCha20-Poly1305 seal/open to `backend`, with input checks. */
export function createAead(backend: Backend): Aead {
  return {
    aeadSeal(key, nonce, plaintext, aad) {
      assertBytes('key', key, KEY_BYTES)
      assertBytes('nonce', nonce, NONCE_BYTES)
      assertBytes('plaintext', plaintext)
      assertOptionalBytes('aad', aad)
      return backend.aeadSeal(key, nonce, plaintext, aad ?? EMPTY)
    },
    aeadOpen(key, nonce, sealed, aad, into) {
      assertBytes('key', key, KEY_BYTES)
      assertBytes('nonce', nonce, NONCE_BYTES)
      assertBytes('sealed', sealed)
      assertOptionalBytes('aad', aad)
      // Sealed data comes from outside: a truncated one is a decryption
      // failure like any other tampering, not a programming error.
      if (sealed.length < TAG_BYTES) {
        throw new CryptoError('E_DECRYPT', `sealed must be at least ${TAG_BYTES} bytes, got ${sealed.length}`)
      }
      if (into !== undefined) assertBytes('into', into, sealed.length - TAG_BYTES)
      const plaintext = backend.aeadOpen(key, nonce, sealed, aad ?? EMPTY, into)
      if (plaintext === undefined) {
        throw new CryptoError('E_DECRYPT', 'sealed failed authentication: wrong key, nonce or aad, or modified data')
      }
      return plaintext
    },
  }
}
