import { describe, expect, it } from 'vitest'
import { apis } from './test-helpers/backends.js'
import { bytes, catchCryptoError, expectCryptoError, hex, loadVectors } from './test-helpers/vectors.js'

const vectors = loadVectors('x25519_test.json')

// RFC 7748 section 6.1.
const rfc = {
  alicePrivate: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  alicePublic: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  bobPrivate: '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb',
  bobPublic: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
}

describe.each(apis)('X25519 (%s backend)', (_name, c) => {
  it('passes all 518 Wycheproof vectors (zero shared secret refused)', () => {
    const failures: string[] = []
    const counts = { valid: 0, acceptable: 0, weak: 0 }
    for (const group of vectors.testGroups) {
      for (const t of group.tests) {
        const secret = bytes(t, 'private')
        const pub = bytes(t, 'public')
        if (t.flags.includes('ZeroSharedSecret')) {
          counts.weak++
          const error = catchCryptoError(() => c.x25519(secret, pub))
          if (error?.code !== 'E_WEAK_KEY') failures.push(`${t.tcId}: expected E_WEAK_KEY, got ${error?.code ?? 'success'}`)
          continue
        }
        counts[t.result === 'valid' ? 'valid' : 'acceptable']++
        const error = catchCryptoError(() => {
          const out = hex(c.x25519(secret, pub))
          if (out !== t.shared) failures.push(`${t.tcId}: got ${out}`)
        })
        if (error) failures.push(`${t.tcId}: threw ${error.code} ${error.message}`)
      }
    }
    expect(failures).toEqual([])
    expect(counts).toEqual({ valid: 264, acceptable: 223, weak: 31 })
    expect(counts.valid + counts.acceptable + counts.weak).toBe(vectors.numberOfTests)
  })

  it('matches RFC 7748 section 6.1 (public keys and shared secret)', () => {
    const h = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))
    expect(hex(c.dhPublicKey(h(rfc.alicePrivate)))).toBe(rfc.alicePublic)
    expect(hex(c.dhPublicKey(h(rfc.bobPrivate)))).toBe(rfc.bobPublic)
    expect(hex(c.x25519(h(rfc.alicePrivate), h(rfc.bobPublic)))).toBe(rfc.shared)
    expect(hex(c.x25519(h(rfc.bobPrivate), h(rfc.alicePublic)))).toBe(rfc.shared)
  })

  it('agrees on a shared secret for generated key pairs', () => {
    const a = c.generateDhKeyPair()
    const b = c.generateDhKeyPair()
    expect(a.secretKey.length).toBe(32)
    expect(a.publicKey).toEqual(c.dhPublicKey(a.secretKey))
    expect(c.x25519(a.secretKey, b.publicKey)).toEqual(c.x25519(b.secretKey, a.publicKey))
  })

  it('checks types and lengths', () => {
    expectCryptoError(() => c.x25519(new Uint8Array(32), new Uint8Array(33)), 'E_CRYPTO_INPUT', 'publicKey must be 32 bytes, got 33')
    expectCryptoError(() => c.x25519(new Uint8Array(1), new Uint8Array(32)), 'E_CRYPTO_INPUT', 'secretKey must be 32 bytes, got 1')
    expectCryptoError(() => c.dhPublicKey(undefined as never), 'E_CRYPTO_INPUT', 'secretKey must be a Uint8Array, got undefined')
    expectCryptoError(() => c.x25519(new Uint8Array(32), new Uint8Array(32)), 'E_WEAK_KEY', /low-order point/)
  })
})
