import { describe, expect, it } from 'vitest'
import { argon2id, argon2idAsync } from './argon2.js'
import { CryptoError } from './errors.js'
import { expectCryptoError, hex, loadVectors } from './test-helpers/vectors.js'

interface Argon2Vector {
  tcId: number
  type: string
  t: number
  m: number
  p: number
  tagLength: number
  password: string
  salt: string
  secret: string
  ad: string
  tag: string
}
const file = loadVectors<{ numberOfTests: number; tests: Argon2Vector[] }>('rfc9106_argon2_test.json')
const h = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))

// Both backends share this implementation (Node 20 has no native Argon2).
describe('Argon2id (RFC 9106)', () => {
  const cases = file.tests.filter((t) => t.type === 'argon2id')

  it('matches RFC 9106 section 5.3, sync and async', async () => {
    expect(file.tests.length).toBe(file.numberOfTests)
    expect(cases.length).toBe(1)
    for (const t of cases) {
      const options = { t: t.t, m: t.m, p: t.p, dkLen: t.tagLength, secret: h(t.secret), ad: h(t.ad) }
      expect(hex(argon2id(h(t.password), h(t.salt), options))).toBe(t.tag)
      expect(hex(await argon2idAsync(h(t.password), h(t.salt), options))).toBe(t.tag)
    }
  })

  it('takes the password as a string (UTF-8) or bytes, dkLen 32 by default', () => {
    const salt = new Uint8Array(16)
    const a = argon2id('pässword', salt, { t: 1, m: 8, p: 1 })
    expect(a.length).toBe(32)
    expect(a).toEqual(argon2id(new TextEncoder().encode('pässword'), salt, { t: 1, m: 8, p: 1 }))
  })

  it('checks parameters with precise errors', async () => {
    const salt = new Uint8Array(16)
    expectCryptoError(() => argon2id('pw', new Uint8Array(7), { t: 1, m: 8, p: 1 }), 'E_CRYPTO_INPUT', 'salt must be at least 8 bytes, got 7')
    expectCryptoError(() => argon2id('pw', salt, { t: 0, m: 8, p: 1 }), 'E_CRYPTO_INPUT', 'options.t must be between 1 and 4294967295, got 0')
    expectCryptoError(() => argon2id('pw', salt, { t: 1, m: 15, p: 2 }), 'E_CRYPTO_INPUT', 'options.m must be between 16 and 1048576, got 15')
    expectCryptoError(() => argon2id('pw', salt, { t: 1, m: 8, p: 1, dkLen: 3 }), 'E_CRYPTO_INPUT', 'options.dkLen must be between 4')
    expectCryptoError(() => argon2id(5 as never, salt, { t: 1, m: 8, p: 1 }), 'E_CRYPTO_INPUT', 'password must be a Uint8Array or a string, got number')
    expectCryptoError(() => argon2id('pw', salt, null as never), 'E_CRYPTO_INPUT', 'options must be an object')
    expectCryptoError(() => argon2id('pw', salt, { t: 1, m: 8, p: 1, secret: 'k' as never }), 'E_CRYPTO_INPUT', 'options.secret must be a Uint8Array, got string')
    await expect(argon2idAsync('pw', salt, { t: 1, m: 8, p: 0 })).rejects.toBeInstanceOf(CryptoError)
  })
})
