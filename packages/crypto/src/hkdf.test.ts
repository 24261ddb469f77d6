import { describe, expect, it } from 'vitest'
import { apis } from './test-helpers/backends.js'
import { bytes, catchCryptoError, expectCryptoError, hex, loadVectors } from './test-helpers/vectors.js'

const vectors = loadVectors('hkdf_sha256_test.json')

describe.each(apis)('HKDF-SHA256 (%s backend)', (_name, c) => {
  it('passes all 86 Wycheproof vectors (SizeTooLarge refused)', () => {
    const failures: string[] = []
    let run = 0
    for (const group of vectors.testGroups) {
      for (const t of group.tests) {
        run++
        const ikm = bytes(t, 'ikm')
        const salt = bytes(t, 'salt')
        const info = bytes(t, 'info')
        const size = t.size as number
        if (t.result === 'valid') {
          const error = catchCryptoError(() => {
            const okm = hex(c.hkdfSha256(ikm, salt, info, size))
            if (okm !== t.okm) failures.push(`${t.tcId}: got ${okm.slice(0, 32)}...`)
            // RFC 5869 section 2.2: an absent salt is the same as an empty one.
            if (salt.length === 0 && hex(c.hkdfSha256(ikm, undefined, info, size)) !== t.okm) {
              failures.push(`${t.tcId}: undefined salt differs`)
            }
          })
          if (error) failures.push(`${t.tcId}: threw ${error.message}`)
        } else {
          const error = catchCryptoError(() => c.hkdfSha256(ikm, salt, info, size))
          if (error?.code !== 'E_CRYPTO_INPUT' || !t.flags.includes('SizeTooLarge')) failures.push(`${t.tcId}: ${error?.code ?? 'accepted'}`)
        }
      }
    }
    expect(failures).toEqual([])
    expect(run).toBe(vectors.numberOfTests)
    expect(run).toBe(86)
  })

  it('takes info as a string (UTF-8) or bytes', () => {
    const ikm = c.randomBytes(32)
    expect(c.hkdfSha256(ikm, undefined, 'mindsync/v1/é', 32)).toEqual(
      c.hkdfSha256(ikm, undefined, new TextEncoder().encode('mindsync/v1/é'), 32),
    )
  })

  it('checks types and lengths', () => {
    const ikm = new Uint8Array(32)
    expectCryptoError(() => c.hkdfSha256(ikm, undefined, 'x', 8161), 'E_CRYPTO_INPUT', 'length must be between 1 and 8160, got 8161')
    expectCryptoError(() => c.hkdfSha256(ikm, undefined, 'x', 0), 'E_CRYPTO_INPUT', 'length must be between 1 and 8160, got 0')
    expectCryptoError(() => c.hkdfSha256(ikm, undefined, 'x', 1.5), 'E_CRYPTO_INPUT', 'length must be an integer, got 1.5')
    expectCryptoError(() => c.hkdfSha256(ikm, undefined, 7 as never, 32), 'E_CRYPTO_INPUT', 'info must be a Uint8Array or a string, got number')
    expectCryptoError(() => c.hkdfSha256(ikm, 'salt' as never, 'x', 32), 'E_CRYPTO_INPUT', 'salt must be a Uint8Array, got string')
    expectCryptoError(() => c.hkdfSha256('ikm' as never, undefined, 'x', 32), 'E_CRYPTO_INPUT', 'ikm must be a Uint8Array, got string')
  })
})
