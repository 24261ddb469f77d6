import { describe, expect, it } from 'vitest'
import { CryptoError } from './errors.js'
import { apis } from './test-helpers/backends.js'
import { bytes, catchCryptoError, expectCryptoError, hex, loadVectors } from './test-helpers/vectors.js'

const vectors = loadVectors('xchacha20_poly1305_test.json')

describe.each(apis)('XChaCha20-Poly1305 (%s backend)', (_name, c) => {
  it('passes all 315 Wycheproof vectors', () => {
    const failures: string[] = []
    let run = 0
    for (const group of vectors.testGroups) {
      for (const t of group.tests) {
        run++
        const [key, iv, aad, msg] = ['key', 'iv', 'aad', 'msg'].map((f) => bytes(t, f)) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array]
        const sealed = hex(bytes(t, 'ct')) + hex(bytes(t, 'tag'))
        const sealedBytes = Uint8Array.from(Buffer.from(sealed, 'hex'))
        if (t.result === 'valid') {
          const out = hex(c.aeadSeal(key, iv, msg, aad))
          if (out !== sealed) failures.push(`${t.tcId}: seal ${out}`)
          const opened = catchCryptoError(() => {
            if (hex(c.aeadOpen(key, iv, sealedBytes, aad)) !== hex(msg)) failures.push(`${t.tcId}: open mismatch`)
          })
          if (opened) failures.push(`${t.tcId}: open threw ${opened.code}`)
        } else {
          // ModifiedTag must fail authentication; InvalidNonceSize is refused as bad input.
          const expected = t.flags.includes('InvalidNonceSize') ? 'E_CRYPTO_INPUT' : 'E_DECRYPT'
          const error = catchCryptoError(() => c.aeadOpen(key, iv, sealedBytes, aad))
          if (error?.code !== expected) failures.push(`${t.tcId}: expected ${expected}, got ${error?.code ?? 'success'}`)
        }
      }
    }
    expect(failures).toEqual([])
    expect(run).toBe(vectors.numberOfTests)
    expect(run).toBe(315)
  })

  it('round-trips with and without aad, including empty plaintext', () => {
    const key = c.randomBytes(32)
    const nonce = c.randomBytes(24)
    for (const size of [0, 1, 63, 64, 65, 1000, 70_000]) {
      const pt = c.randomBytes(size)
      expect(hex(c.aeadOpen(key, nonce, c.aeadSeal(key, nonce, pt)))).toBe(hex(pt))
      const aad = c.randomBytes(13)
      const sealed = c.aeadSeal(key, nonce, pt, aad)
      expect(sealed.length).toBe(size + 16)
      expect(hex(c.aeadOpen(key, nonce, sealed, aad))).toBe(hex(pt))
      expectCryptoError(() => c.aeadOpen(key, nonce, sealed), 'E_DECRYPT')
    }
  })

  it('treats an absent aad like an empty one', () => {
    const key = c.randomBytes(32)
    const nonce = c.randomBytes(24)
    const sealed = c.aeadSeal(key, nonce, new Uint8Array([1, 2, 3]))
    expect(c.aeadOpen(key, nonce, sealed, new Uint8Array(0))).toEqual(new Uint8Array([1, 2, 3]))
  })

  it('refuses wrong key, nonce, aad and any flipped bit', () => {
    const key = c.randomBytes(32)
    const nonce = c.randomBytes(24)
    const aad = new Uint8Array([9])
    const sealed = c.aeadSeal(key, nonce, new Uint8Array(40), aad)
    expectCryptoError(() => c.aeadOpen(c.randomBytes(32), nonce, sealed, aad), 'E_DECRYPT', /failed authentication/)
    expectCryptoError(() => c.aeadOpen(key, c.randomBytes(24), sealed, aad), 'E_DECRYPT')
    expectCryptoError(() => c.aeadOpen(key, nonce, sealed, new Uint8Array([8])), 'E_DECRYPT')
    for (let i = 0; i < sealed.length; i++) {
      const bad = sealed.slice()
      bad[i]! ^= 0x01
      expect(catchCryptoError(() => c.aeadOpen(key, nonce, bad, aad))?.code).toBe('E_DECRYPT')
    }
    expectCryptoError(() => c.aeadOpen(key, nonce, sealed.subarray(0, 15), aad), 'E_DECRYPT', 'sealed must be at least 16 bytes, got 15')
  })

  it('checks types and lengths', () => {
    const k = new Uint8Array(32)
    const n = new Uint8Array(24)
    expectCryptoError(() => c.aeadSeal(new Uint8Array(31), n, new Uint8Array(1)), 'E_CRYPTO_INPUT', 'key must be 32 bytes, got 31')
    expectCryptoError(() => c.aeadSeal(k, new Uint8Array(12), new Uint8Array(1)), 'E_CRYPTO_INPUT', 'nonce must be 24 bytes, got 12')
    expectCryptoError(() => c.aeadSeal(k, n, 'text' as never), 'E_CRYPTO_INPUT', 'plaintext must be a Uint8Array, got string')
    expectCryptoError(() => c.aeadSeal(k, n, new Uint8Array(1), [] as never), 'E_CRYPTO_INPUT', 'aad must be a Uint8Array, got Array')
    expectCryptoError(() => c.aeadOpen(k, n, null as never), 'E_CRYPTO_INPUT', 'sealed must be a Uint8Array, got null')
    expect(catchCryptoError(() => c.aeadSeal(k, n, new Uint8Array(1)))).toBeUndefined()
    expect(new CryptoError('E_DECRYPT', 'x').name).toBe('CryptoError')
  })

  it('accepts Buffers and subarray views as input', () => {
    const key = Buffer.alloc(32, 7)
    const nonce = new Uint8Array(30).subarray(3, 27)
    const pt = Buffer.from('hello')
    const sealed = c.aeadSeal(key, nonce, pt)
    expect(Buffer.from(c.aeadOpen(key, nonce, sealed)).toString()).toBe('hello')
  })
})
