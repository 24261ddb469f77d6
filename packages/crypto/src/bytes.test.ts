import { describe, expect, it } from 'vitest'
import { constantTimeEqual, wipe } from './bytes.js'
import { expectCryptoError } from './test-helpers/vectors.js'

describe('constantTimeEqual', () => {
  it('compares contents and lengths', () => {
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true)
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true)
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false)
    expect(constantTimeEqual(new Uint8Array([0x80, 2, 3]), new Uint8Array([0, 2, 3]))).toBe(false)
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false)
    expect(constantTimeEqual(Buffer.from([7]), new Uint8Array([7]))).toBe(true)
  })

  it('checks types', () => {
    expectCryptoError(() => constantTimeEqual('a' as never, new Uint8Array(1)), 'E_CRYPTO_INPUT', 'a must be a Uint8Array, got string')
    expectCryptoError(() => constantTimeEqual(new Uint8Array(1), [1] as never), 'E_CRYPTO_INPUT', 'b must be a Uint8Array, got Array')
  })
})

describe('wipe', () => {
  it('zeroes in place, views included', () => {
    const b = new Uint8Array([1, 2, 3, 4])
    wipe(b.subarray(1, 3))
    expect(b).toEqual(new Uint8Array([1, 0, 0, 4]))
    wipe(b)
    expect(b).toEqual(new Uint8Array(4))
    expectCryptoError(() => wipe({} as never), 'E_CRYPTO_INPUT', 'bytes must be a Uint8Array, got Object')
  })
})
