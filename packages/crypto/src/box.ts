// Sealed box: anonymous public-key encryption to one X25519 key.
//   ephemeral X25519 key pair (e, E); shared = X25519(e, R)   (RFC 7748)
//   key = HKDF-SHA256(shared, salt = E || R,
//                     info = "mindsync/v1/box/" || context, 32) (RFC 5869)
//   box = E(32) || nonce(24) || XChaCha20-Poly1305(key, nonce, plaintext, aad)
// E and R in the salt bind the key to both public keys; the context keeps a
// box made for one purpose from being opened as another.
import type { Backend } from './backends/types.js'
import { concatBytes, EMPTY } from './bytes.js'
import { KEY_BYTES, NONCE_BYTES, PUBLIC_KEY_BYTES, TAG_BYTES } from './constants.js'
import { utf8 } from './encoding.js'
import { CryptoError } from './errors.js'
import { assertBytes, assertContext, assertOptionalBytes } from './validate.js'

/** Prefix of the HKDF info string; the caller's context follows it. */
export const BOX_INFO_PREFIX = 'mindsync/v1/box/'
/** Bytes a box adds to its plaintext. */
export const BOX_OVERHEAD = PUBLIC_KEY_BYTES + NONCE_BYTES + TAG_BYTES

/** Sealed-box functions bound to a backend. */
export interface Box {
  sealBox(recipientPublicKey: Uint8Array, plaintext: Uint8Array, context: string, aad?: Uint8Array): Uint8Array
  openBox(recipientSecretKey: Uint8Array, box: Uint8Array, context: string, aad?: Uint8Array): Uint8Array
}

function decryptError(reason: string): CryptoError {
  return new CryptoError('E_DECRYPT', `box cannot be opened: ${reason}`)
}

/** Binds sealBox/openBox to `backend`, with input checks. */
export function createBox(backend: Backend, randomBytes: (length: number) => Uint8Array): Box {
  function boxKey(shared: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array, context: string): Uint8Array {
    const info = utf8.encode(BOX_INFO_PREFIX + context)
    const key = backend.hkdfSha256(shared, concatBytes(ephemeral, recipient), info, KEY_BYTES)
    shared.fill(0)
    return key
  }

  return {
    sealBox(recipientPublicKey, plaintext, context, aad) {
      assertBytes('recipientPublicKey', recipientPublicKey, PUBLIC_KEY_BYTES)
      assertBytes('plaintext', plaintext)
      assertContext('context', context)
      assertOptionalBytes('aad', aad)
      const ephemeralSecret = randomBytes(32)
      const ephemeral = backend.x25519PublicKey(ephemeralSecret)
      const shared = backend.x25519(ephemeralSecret, recipientPublicKey)
      ephemeralSecret.fill(0)
      if (shared === undefined) {
        throw new CryptoError('E_WEAK_KEY', 'recipientPublicKey is a low-order point: the shared secret would be all zero')
      }
      const key = boxKey(shared, ephemeral, recipientPublicKey, context)
      const nonce = randomBytes(NONCE_BYTES)
      const sealed = backend.aeadSeal(key, nonce, plaintext, aad ?? EMPTY)
      key.fill(0)
      return concatBytes(ephemeral, nonce, sealed)
    },
    openBox(recipientSecretKey, box, context, aad) {
      assertBytes('recipientSecretKey', recipientSecretKey, 32)
      assertBytes('box', box)
      assertContext('context', context)
      assertOptionalBytes('aad', aad)
      if (box.length < BOX_OVERHEAD) throw decryptError(`box must be at least ${BOX_OVERHEAD} bytes, got ${box.length}`)
      const ephemeral = box.subarray(0, PUBLIC_KEY_BYTES)
      const nonce = box.subarray(PUBLIC_KEY_BYTES, PUBLIC_KEY_BYTES + NONCE_BYTES)
      const shared = backend.x25519(recipientSecretKey, ephemeral)
      // A low-order ephemeral key can only come from tampering.
      if (shared === undefined) throw decryptError('the ephemeral public key is a low-order point')
      const recipient = backend.x25519PublicKey(recipientSecretKey)
      const key = boxKey(shared, ephemeral, recipient, context)
      const plaintext = backend.aeadOpen(key, nonce, box.subarray(PUBLIC_KEY_BYTES + NONCE_BYTES), aad ?? EMPTY)
      key.fill(0)
      if (plaintext === undefined) throw decryptError('wrong recipient key, context or aad, or modified data')
      return plaintext
    },
  }
}
