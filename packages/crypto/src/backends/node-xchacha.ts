// XChaCha20-Poly1305 per draft-irtf-cfrg-xchacha-03 section 2.3: HChaCha20
// (noble) derives a subkey from the key and the first 16 nonce bytes, then
// native IETF ChaCha20-Poly1305 (RFC 8439) runs under that subkey with the
// 12-byte nonce 0x00000000 || nonce[16..24].
import { hchacha } from '@noble/ciphers/chacha.js'
import { createCipheriv, createDecipheriv } from 'node:crypto'
import { moveInto } from '../bytes.js'
import { fromBuffer } from './node-bytes.js'

const TAG = 16
// Scratch space, reused by every call (synchronous, single thread) and wiped
// after each use. hchacha takes native-endian word views of the bytes.
const sigma = new Uint32Array(new TextEncoder().encode('expand 32-byte k').buffer)
const input = new Uint8Array(48) // key(32) || nonce[0..16]
const inputWords = new Uint32Array(input.buffer)
const subkeyWords = new Uint32Array(8)
const subkey = new Uint8Array(subkeyWords.buffer)
const iv = new Uint8Array(12)

function prepare(key: Uint8Array, nonce: Uint8Array): void {
  input.set(key, 0)
  input.set(nonce.subarray(0, 16), 32)
  hchacha(sigma, inputWords.subarray(0, 8), inputWords.subarray(8, 12), subkeyWords)
  input.fill(0)
  iv.set(nonce.subarray(16, 24), 4)
}

function cleanup(): void {
  subkey.fill(0)
}

/** Encrypts and returns ciphertext || tag. */
export function xchachaSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  prepare(key, nonce)
  try {
    const cipher = createCipheriv('chacha20-poly1305', subkey, iv, { authTagLength: TAG })
    if (aad.length > 0) cipher.setAAD(aad, { plaintextLength: plaintext.length })
    const out = new Uint8Array(plaintext.length + TAG)
    out.set(cipher.update(plaintext), 0)
    cipher.final()
    out.set(cipher.getAuthTag(), plaintext.length)
    return out
  } finally {
    cleanup()
  }
}

/** Decrypts ciphertext || tag; `undefined` when the tag does not match. */
export function xchachaOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array, into?: Uint8Array): Uint8Array | undefined {
  prepare(key, nonce)
  try {
    const end = sealed.length - TAG
    const decipher = createDecipheriv('chacha20-poly1305', subkey, iv, { authTagLength: TAG })
    if (aad.length > 0) decipher.setAAD(aad, { plaintextLength: end })
    decipher.setAuthTag(sealed.subarray(end))
    const plaintext = decipher.update(sealed.subarray(0, end))
    try {
      decipher.final()
    } catch {
      plaintext.fill(0) // never release unauthenticated plaintext
      return undefined
    }
    return into ? moveInto(plaintext, into) : fromBuffer(plaintext)
  } finally {
    cleanup()
  }
}
