import { describe, expect, it } from 'vitest'
import { nobleApi, nodeApi, sodiumApi } from './test-helpers/backends.js'
import { smallOrderForgery, torsionNonce } from './test-helpers/ed25519-crafted.js'

const pairs = [
  ['node', nodeApi, 'noble', nobleApi],
  ['noble', nobleApi, 'node', nodeApi],
  ['sodium', sodiumApi, 'noble', nobleApi],
  ['noble', nobleApi, 'sodium', sodiumApi],
  ['sodium', sodiumApi, 'node', nodeApi],
  ['node', nodeApi, 'sodium', sodiumApi],
] as const

describe.each(pairs)('%s output read by %s backend', (_a, from, _b, to) => {
  it('derives the same public keys', () => {
    const seed = from.randomBytes(32)
    expect(to.signingPublicKey(seed)).toEqual(from.signingPublicKey(seed))
    expect(to.dhPublicKey(seed)).toEqual(from.dhPublicKey(seed))
  })

  it('verifies signatures made by the other', () => {
    const { secretKey, publicKey } = from.generateSigningKeyPair()
    for (const size of [0, 1, 100, 10_000]) {
      const msg = from.randomBytes(size)
      const sig = from.createSigner(secretKey).sign(msg)
      expect(to.sign(secretKey, msg)).toEqual(sig) // Ed25519 is deterministic
      expect(to.verify(publicKey, msg, sig)).toBe(true)
    }
  })

  it('opens AEAD output and boxes sealed by the other', () => {
    const key = from.randomBytes(32)
    const nonce = from.randomBytes(24)
    const aad = from.randomBytes(20)
    // Around 16 KiB the sodium backend hands bulk data to OpenSSL: both sides of that line.
    for (const size of [0, 1000, 16_367, 16_368, 16_384, 100_000]) {
      const bytes = from.randomBytes(Math.min(size, 256))
      const body = new Uint8Array(size).map((_, i) => bytes[i % bytes.length] ?? 0)
      const sealedBody = from.aeadSeal(key, nonce, body, aad)
      expect(to.aeadSeal(key, nonce, body, aad), `size ${size}`).toEqual(sealedBody)
      expect(to.aeadOpen(key, nonce, sealedBody, aad), `size ${size}`).toEqual(body)
    }
    const pt = from.randomBytes(1000)
    const recipient = to.generateDhKeyPair()
    const box = from.sealBox(recipient.publicKey, pt, 'interop', aad)
    expect(to.openBox(recipient.secretKey, box, 'interop', aad)).toEqual(pt)
  })

  it('agrees on X25519, HKDF, HMAC, keyed BLAKE2b, SHA-256 and hashParts', () => {
    const a = from.generateDhKeyPair()
    const b = to.generateDhKeyPair()
    expect(to.x25519(b.secretKey, a.publicKey)).toEqual(from.x25519(a.secretKey, b.publicKey))
    const ikm = from.randomBytes(40)
    expect(to.hkdfSha256(ikm, undefined, 'i', 100)).toEqual(from.hkdfSha256(ikm, undefined, 'i', 100))
    expect(to.hmacSha256(ikm, ikm)).toEqual(from.hmacSha256(ikm, ikm))
    expect(to.blake2bMac128(ikm.subarray(0, 32), ikm)).toEqual(from.blake2bMac128(ikm.subarray(0, 32), ikm))
    expect(to.sha256(ikm)).toEqual(from.sha256(ikm))
    // The sodium backend hashes short inputs with libsodium and long ones with OpenSSL; MAC inputs up to 64 bytes go through a buffer of its own.
    for (const size of [0, 32, 64, 65, 512, 513, 20_000]) {
      const data = from.randomBytes(size)
      expect(to.sha256(data), `sha256 of ${size} bytes`).toEqual(from.sha256(data))
      expect(to.blake2bMac128(ikm.subarray(0, 32), data), `mac of ${size} bytes`).toEqual(from.blake2bMac128(ikm.subarray(0, 32), data))
    }
    expect(to.hashParts('c', ikm, ikm)).toEqual(from.hashParts('c', ikm, ikm))
  })
})

describe('Ed25519 corner cases between backends', () => {
  it('both refuse small-order public keys (OpenSSL alone would accept this forgery)', () => {
    const f = smallOrderForgery()
    expect(nobleApi.verify(f.publicKey, f.message, f.signature)).toBe(false)
    expect(nodeApi.verify(f.publicKey, f.message, f.signature)).toBe(false)
    expect(sodiumApi.verify(f.publicKey, f.message, f.signature)).toBe(false)
  })

  it('documents the one known difference: R with a small-order component', () => {
    // Only the holder of the secret key can build such a signature; the
    // cofactored check (noble) accepts it, the cofactorless ones (OpenSSL, libsodium) do not.
    const t = torsionNonce()
    expect(nobleApi.verify(t.publicKey, t.message, t.signature)).toBe(true)
    expect(nodeApi.verify(t.publicKey, t.message, t.signature)).toBe(false)
    expect(sodiumApi.verify(t.publicKey, t.message, t.signature)).toBe(false)
  })
})

describe.each([
  ['node', nodeApi],
  ['noble', nobleApi],
  ['sodium', sodiumApi],
] as const)('%s backend results', (_name, api) => {
  // A backend may compute into a buffer of its own and copy out: what it returned must stay as it was.
  it('are the caller’s own bytes: later calls do not change them, and changing them changes nothing later', () => {
    const key = api.randomBytes(32)
    const [m1, m2] = [api.randomBytes(32), api.randomBytes(32)]
    const mac1 = api.blake2bMac128(key, m1)
    const mac1Copy = mac1.slice()
    api.blake2bMac128(key, m2)
    expect(mac1).toEqual(mac1Copy)
    mac1.fill(0)
    expect(api.blake2bMac128(key, m1)).toEqual(mac1Copy)

    const digest = api.sha256(m1)
    const digestCopy = digest.slice()
    api.sha256(m2)
    expect(digest).toEqual(digestCopy)

    // Opening into a given array: that array, filled; nothing in it when the tag fails.
    const nonce = api.randomBytes(24)
    const into = new Uint8Array(m2.length)
    const sealedM2 = api.aeadSeal(key, nonce, m2, m1)
    expect(api.aeadOpen(key, nonce, sealedM2, m1, into)).toBe(into)
    expect(into).toEqual(m2)
    const forged = sealedM2.slice()
    forged[0] = (forged[0] as number) ^ 1
    const untouched = new Uint8Array(m2.length)
    expect(() => api.aeadOpen(key, nonce, forged, m1, untouched)).toThrow()
    expect(untouched.every((b) => b === 0)).toBe(true)
    expect(() => api.aeadOpen(key, nonce, sealedM2, m1, new Uint8Array(m2.length + 1))).toThrow()

    // Sealed and opened bodies: each its own bytes, whatever they share underneath.
    const sealed = [m1, m2].map((m) => api.aeadSeal(key, nonce, m, m1))
    const opened = sealed.map((c) => api.aeadOpen(key, nonce, c, m1))
    expect(opened).toEqual([m1, m2])
    // Without a destination, an array of its own: what is opened may be a key, and no other bytes may share its memory.
    for (const o of opened) expect(o?.byteLength).toBe(o?.buffer.byteLength)
    opened[0]?.fill(0)
    sealed[0]?.fill(0)
    expect(opened[1]).toEqual(m2)
    expect(api.aeadOpen(key, nonce, sealed[1] as Uint8Array, m1)).toEqual(m2)

    const { secretKey, publicKey } = api.generateSigningKeyPair()
    const signer = api.createSigner(secretKey)
    for (const sign of [(m: Uint8Array) => signer.sign(m), (m: Uint8Array) => api.sign(secretKey, m)]) {
      const sig1 = sign(m1)
      const sig1Copy = sig1.slice()
      sign(m2)
      expect(sig1).toEqual(sig1Copy)
      expect(api.verify(publicKey, m1, sig1)).toBe(true)
      sig1.fill(0)
      expect(sign(m1)).toEqual(sig1Copy)
    }
  })
})
