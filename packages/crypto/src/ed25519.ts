// Ed25519 (RFC 8032 section 5.1). The secret key is the 32-byte seed.
import type { Backend } from './backends/types.js'
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from './constants.js'
import { assertBytes } from './validate.js'

/** An Ed25519 key pair; `secretKey` is the 32-byte seed. */
export interface SigningKeyPair {
  secretKey: Uint8Array
  publicKey: Uint8Array
}

/** A prepared signing key: repeated signatures skip key set-up. */
export interface Signer {
  readonly publicKey: Uint8Array
  sign(message: Uint8Array): Uint8Array
}

/** Ed25519 functions bound to a backend. */
export interface Ed25519 {
  generateSigningKeyPair(): SigningKeyPair
  signingPublicKey(secretKey: Uint8Array): Uint8Array
  sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean
  createSigner(secretKey: Uint8Array): Signer
}

/** Binds Ed25519 to `backend`, with input checks. */
export function createEd25519(backend: Backend, randomBytes: (length: number) => Uint8Array): Ed25519 {
  return {
    generateSigningKeyPair() {
      const secretKey = randomBytes(32)
      return { secretKey, publicKey: backend.ed25519PublicKey(secretKey) }
    },
    signingPublicKey(secretKey) {
      assertBytes('secretKey', secretKey, 32)
      return backend.ed25519PublicKey(secretKey)
    },
    sign(secretKey, message) {
      assertBytes('secretKey', secretKey, 32)
      assertBytes('message', message)
      return backend.ed25519Sign(secretKey, message)
    },
    verify(publicKey, message, signature) {
      assertBytes('publicKey', publicKey, PUBLIC_KEY_BYTES)
      assertBytes('message', message)
      assertBytes('signature', signature, SIGNATURE_BYTES)
      return backend.ed25519Verify(publicKey, message, signature)
    },
    createSigner(secretKey) {
      assertBytes('secretKey', secretKey, 32)
      const publicKey = backend.ed25519PublicKey(secretKey)
      const signWith = backend.ed25519Signer(secretKey)
      return {
        publicKey,
        sign(message) {
          assertBytes('message', message)
          return signWith(message)
        },
      }
    },
  }
}
