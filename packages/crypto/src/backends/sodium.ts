// Node with libsodium (sodium-native) for the primitives every envelope
// needs: XChaCha20-Poly1305 and Ed25519. OpenSSL through node:crypto costs a
// few microseconds per call in object set-up alone (a Cipher or a KeyObject
// per message); libsodium works on the caller's bytes directly. For a
// 150-byte envelope body, open drops from about 6 µs to under 1 µs, and an
// Ed25519 signature from about 30 µs to about 15 µs. Bodies of 16 KiB and
// more (snapshots) still go to OpenSSL, whose vectorised ChaCha20 is faster
// in bulk. Keyed BLAKE2b (receiver tags) is libsodium's crypto_generichash, and
// SHA-256 of short inputs (envelope hashes) libsodium's, whose result needs
// no array of its own outside the heap. Everything else (X25519,
// HMAC-SHA256, HKDF, SHA-256 in bulk) stays on node:crypto, as fast here.
import { createRequire } from 'node:module'
import { backend as openssl } from './node.js'
import { allocBytes } from '../slab.js'
import type { Backend } from './types.js'

/** The part of sodium-native this backend calls. */
export interface Sodium {
  crypto_aead_xchacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number
  crypto_aead_xchacha20poly1305_ietf_decrypt(m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number
  crypto_sign_seed_keypair(pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): void
  crypto_sign_detached(sig: Uint8Array, m: Uint8Array, sk: Uint8Array): void
  crypto_sign_verify_detached(sig: Uint8Array, m: Uint8Array, pk: Uint8Array): boolean
  crypto_generichash(out: Uint8Array, m: Uint8Array, k?: Uint8Array): void
  crypto_hash_sha256(out: Uint8Array, m: Uint8Array): void
}

const TAG = 16
/** From this size on, OpenSSL's ChaCha20 (AVX2/AVX-512) is faster than libsodium's; below it, the per-call cost decides. */
const LARGE = 16 * 1024

/**
 * Where libsodium writes MACs, signatures and hashes, and reads a MAC's
 * short input, outside V8's heap. A Uint8Array of up to 64 bytes lives in
 * the heap, and handing one to native code moves it out first (about 1.4 µs
 * of CPU with the GC's share), while a fresh array of any size outside the
 * heap costs more (slab.ts): a result is written here and copied into a
 * small array in the heap, and a short input (an envelope hash, itself such
 * an array) is copied here before the call. Calls are synchronous, so one
 * buffer each serves every call; what they hold is public (a MAC, a
 * signature, a hash) or wiped (a MAC's input).
 */
const macOut = new Uint8Array(new ArrayBuffer(16))
const macIn = new Uint8Array(new ArrayBuffer(64))
const sigOut = new Uint8Array(new ArrayBuffer(64))
const hashOut = new Uint8Array(new ArrayBuffer(32))
/**
 * Up to this size, libsodium's SHA-256 with the result in the heap; above it, OpenSSL's (SHA
 * extensions) even with its result's own array. CPU per hash on the bench machine, OpenSSL
 * against libsodium: 2.3 / 0.8 µs for 128 bytes, 2.1 / 1.5 for 420, 1.9 / 2.3 for 700, 2.9 / 7.8
 * for 2,700 (a full-speed envelope of twenty entries).
 */
const SHA256_NATIVE_FROM = 512

/** A copy in V8's heap of a short result libsodium wrote to `from`. */
function heapCopy(from: Uint8Array): Uint8Array {
  const out = new Uint8Array(from.length)
  out.set(from)
  return out
}

/** sodium-native when its prebuilt addon loads on this platform, otherwise undefined. */
export function loadSodium(): Sodium | undefined {
  try {
    return createRequire(import.meta.url)('sodium-native') as Sodium
  } catch {
    return undefined
  }
}

/** libsodium's 64-byte secret key (seed ‖ public key) and the public key, from a seed. */
function expand(s: Sodium, seed: Uint8Array): { sk: Uint8Array; pk: Uint8Array } {
  const pk = new Uint8Array(32)
  const sk = new Uint8Array(64)
  s.crypto_sign_seed_keypair(pk, sk, seed)
  return { sk, pk }
}

function signWith(s: Sodium, sk: Uint8Array, message: Uint8Array): Uint8Array {
  s.crypto_sign_detached(sigOut, message, sk)
  return heapCopy(sigOut)
}

/** The OpenSSL backend with libsodium's XChaCha20-Poly1305 and Ed25519 in place of its own. */
export function sodiumBackend(s: Sodium): Backend {
  return {
    ...openssl,
    name: 'sodium',
    aeadSeal(key, nonce, plaintext, aad) {
      if (plaintext.length >= LARGE) return openssl.aeadSeal(key, nonce, plaintext, aad)
      const out = allocBytes(plaintext.length + TAG)
      s.crypto_aead_xchacha20poly1305_ietf_encrypt(out, plaintext, aad.length > 0 ? aad : null, null, nonce, key)
      return out
    },
    aeadOpen(key, nonce, sealed, aad, into) {
      if (sealed.length >= LARGE) return openssl.aeadOpen(key, nonce, sealed, aad, into)
      // An array of its own unless the caller gives one: opened bytes can be keys, kept for long.
      const out = into ?? new Uint8Array(sealed.length - TAG)
      try {
        s.crypto_aead_xchacha20poly1305_ietf_decrypt(out, null, sealed, aad.length > 0 ? aad : null, nonce, key)
      } catch {
        out.fill(0) // never release unauthenticated plaintext
        return undefined
      }
      return out
    },
    ed25519PublicKey: (seed) => expand(s, seed).pk,
    ed25519Sign(seed, message) {
      const { sk } = expand(s, seed)
      try {
        return signWith(s, sk, message)
      } finally {
        sk.fill(0)
      }
    },
    ed25519Signer(seed) {
      // A copy the caller cannot wipe from under the signer (as the other backends keep a KeyObject).
      const { sk } = expand(s, seed)
      return (message) => signWith(s, sk, message)
    },
    // Receiver tags: one per member for every envelope an author seals and one for every envelope
    // a device receives. One native call of about 0.5 µs (HMAC-SHA-512 through crypto_auth: 1.1).
    blake2bMac128(key, data) {
      if (data.length <= macIn.length) {
        const input = macIn.subarray(0, data.length)
        input.set(data)
        s.crypto_generichash(macOut, input, key)
        input.fill(0)
      } else {
        s.crypto_generichash(macOut, data, key)
      }
      return heapCopy(macOut)
    },
    sha256(data) {
      if (data.length > SHA256_NATIVE_FROM) return openssl.sha256(data)
      s.crypto_hash_sha256(hashOut, data)
      return heapCopy(hashOut)
    },
    // libsodium verifies strictly: canonical A and R, S < L, and it refuses small-order A and R.
    ed25519Verify(publicKey, message, signature) {
      try {
        return s.crypto_sign_verify_detached(signature, message, publicKey)
      } catch {
        return false
      }
    },
  }
}
