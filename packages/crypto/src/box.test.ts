import { describe, expect, it } from 'vitest'
import { BOX_OVERHEAD } from './box.js'
import { apis } from './test-helpers/backends.js'
import { catchCryptoError, expectCryptoError, hex } from './test-helpers/vectors.js'

const enc = (s: string) => new TextEncoder().encode(s)
const h = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))

// A frozen box: if this stops opening, the box format changed.
const golden = {
  secretKey: h('a8abababababababababababababababababababababababababababababab6b'),
  publicKey: 'e3712d851a0e5d79b831c5e34ab22b41a198171de209b8b8faca23a11c624859',
  box: h(
    '3ea816b7985a898181e5e608a6e4c93a771cdfbbbc0d53324036c9900c2a9d0ecb9a488d3a404728c160e913d20f53cb4b29d28f542be81be6a5e22930231183a4aec1c606d1d5abd9d05c3cfc31d4c6186e3ad0773d0aa27395be',
  ),
  context: 'lockbox',
  aad: enc('op#7'),
  plaintext: 'epoch key goes here',
}

describe.each(apis)('sealed box (%s backend)', (_name, c) => {
  const recipient = c.generateDhKeyPair()
  const plaintext = enc('the epoch key, 32 bytes or so...')
  const aad = enc('membership op 42')

  it('round-trips, with and without aad, empty plaintext included', () => {
    const box = c.sealBox(recipient.publicKey, plaintext, 'lockbox', aad)
    expect(box.length).toBe(plaintext.length + BOX_OVERHEAD)
    expect(c.openBox(recipient.secretKey, box, 'lockbox', aad)).toEqual(plaintext)
    const bare = c.sealBox(recipient.publicKey, new Uint8Array(0), 'x')
    expect(c.openBox(recipient.secretKey, bare, 'x')).toEqual(new Uint8Array(0))
  })

  it('opens the frozen golden box', () => {
    expect(hex(c.dhPublicKey(golden.secretKey))).toBe(golden.publicKey)
    const opened = c.openBox(golden.secretKey, golden.box, golden.context, golden.aad)
    expect(new TextDecoder().decode(opened)).toBe(golden.plaintext)
  })

  it('is exactly X25519 + HKDF-SHA256(salt = E || R, info = prefix || context) + XChaCha20-Poly1305', () => {
    const box = c.sealBox(recipient.publicKey, plaintext, 'ctx', aad)
    const eph = box.subarray(0, 32)
    const nonce = box.subarray(32, 56)
    const salt = new Uint8Array([...eph, ...recipient.publicKey])
    const key = c.hkdfSha256(c.x25519(recipient.secretKey, eph), salt, 'mindsync/v1/box/ctx', 32)
    expect(c.aeadOpen(key, nonce, box.subarray(56), aad)).toEqual(plaintext)
  })

  it('uses a fresh ephemeral key and nonce every time', () => {
    const a = c.sealBox(recipient.publicKey, plaintext, 'lockbox')
    const b = c.sealBox(recipient.publicKey, plaintext, 'lockbox')
    expect(hex(a.subarray(0, 32))).not.toBe(hex(b.subarray(0, 32)))
    expect(hex(a.subarray(32, 56))).not.toBe(hex(b.subarray(32, 56)))
  })

  it('refuses the wrong recipient, context or aad with E_DECRYPT', () => {
    const box = c.sealBox(recipient.publicKey, plaintext, 'lockbox', aad)
    expectCryptoError(() => c.openBox(c.generateDhKeyPair().secretKey, box, 'lockbox', aad), 'E_DECRYPT', /box cannot be opened/)
    expectCryptoError(() => c.openBox(recipient.secretKey, box, 'lockbox2', aad), 'E_DECRYPT')
    expectCryptoError(() => c.openBox(recipient.secretKey, box, 'lockbox', enc('membership op 43')), 'E_DECRYPT')
    expectCryptoError(() => c.openBox(recipient.secretKey, box, 'lockbox'), 'E_DECRYPT')
  })

  it('refuses a flipped byte in every region (ephemeral key, nonce, ciphertext, tag) and truncation', () => {
    const box = c.sealBox(recipient.publicKey, plaintext, 'lockbox', aad)
    const regions = { ephemeral: 0, nonce: 32, ciphertext: 56, tag: box.length - 16 }
    let tried = 0
    for (let i = 0; i < box.length; i++) {
      const bad = box.slice()
      bad[i]! ^= 0x80 >> i % 8
      const error = catchCryptoError(() => c.openBox(recipient.secretKey, bad, 'lockbox', aad))
      expect(error?.code, `byte ${i}`).toBe('E_DECRYPT')
      tried++
    }
    expect(tried).toBeGreaterThan(regions.tag)
    expectCryptoError(() => c.openBox(recipient.secretKey, box.subarray(0, BOX_OVERHEAD - 1), 'lockbox', aad), 'E_DECRYPT', `box must be at least ${BOX_OVERHEAD} bytes, got ${BOX_OVERHEAD - 1}`)
    expectCryptoError(() => c.openBox(recipient.secretKey, box.subarray(0, box.length - 1), 'lockbox', aad), 'E_DECRYPT')
  })

  it('refuses a low-order ephemeral key (tampering) and a low-order recipient key', () => {
    const box = c.sealBox(recipient.publicKey, plaintext, 'lockbox')
    box.fill(0, 0, 32)
    expectCryptoError(() => c.openBox(recipient.secretKey, box, 'lockbox'), 'E_DECRYPT', /low-order/)
    expectCryptoError(() => c.sealBox(new Uint8Array(32), plaintext, 'lockbox'), 'E_WEAK_KEY', /recipientPublicKey is a low-order point/)
  })

  it('checks types and lengths', () => {
    expectCryptoError(() => c.sealBox(new Uint8Array(31), plaintext, 'x'), 'E_CRYPTO_INPUT', 'recipientPublicKey must be 32 bytes, got 31')
    expectCryptoError(() => c.sealBox(recipient.publicKey, plaintext, ''), 'E_CRYPTO_INPUT', 'context must be a non-empty string')
    expectCryptoError(() => c.sealBox(recipient.publicKey, plaintext, 5 as never), 'E_CRYPTO_INPUT', 'context must be a string, got number')
    expectCryptoError(() => c.openBox(new Uint8Array(64), new Uint8Array(100), 'x'), 'E_CRYPTO_INPUT', 'recipientSecretKey must be 32 bytes, got 64')
    expectCryptoError(() => c.openBox(recipient.secretKey, 'box' as never, 'x'), 'E_CRYPTO_INPUT', 'box must be a Uint8Array, got string')
  })
})
