import { describe, expect, it } from 'vitest'
import { createRandomBytes } from './random.js'
import { apis } from './test-helpers/backends.js'
import { expectCryptoError, hex } from './test-helpers/vectors.js'

describe.each(apis)('randomBytes (%s backend)', (_name, c) => {
  it('returns the requested lengths, across pool refills and above the pool limit', () => {
    for (const n of [0, 1, 24, 32, 255, 256, 257, 4096, 5000, 70_000]) expect(c.randomBytes(n).length).toBe(n)
    for (let i = 0; i < 1000; i++) expect(c.randomBytes(24).length).toBe(24)
  })

  it('does not repeat and is not all zero', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) seen.add(hex(c.randomBytes(16)))
    expect(seen.size).toBe(2000)
    expect(c.randomBytes(70_000).some((b) => b !== 0)).toBe(true)
  })

  it('returns independent copies, not views into the pool', () => {
    const a = c.randomBytes(32)
    const copy = a.slice()
    expect(a.byteLength).toBe(a.buffer.byteLength)
    for (let i = 0; i < 500; i++) c.randomBytes(32) // several refills
    expect(a).toEqual(copy)
    const b = c.randomBytes(32)
    b.fill(0)
    expect(c.randomBytes(32).some((x) => x !== 0)).toBe(true)
  })

  it('checks the length', () => {
    expectCryptoError(() => c.randomBytes(-1), 'E_CRYPTO_INPUT', 'length must be between 0 and 2147483647, got -1')
    expectCryptoError(() => c.randomBytes(1.5), 'E_CRYPTO_INPUT', 'length must be an integer, got 1.5')
    expectCryptoError(() => c.randomBytes('8' as never), 'E_CRYPTO_INPUT', 'length must be an integer, got string')
  })
})

describe('random pool', () => {
  it('erases handed-out bytes from the pool and refills in 4 KiB chunks', () => {
    const fills: Uint8Array[] = []
    const randomBytes = createRandomBytes((out) => {
      fills.push(out)
      out.fill(0xaa)
    })
    const first = randomBytes(100)
    expect(first.every((x) => x === 0xaa)).toBe(true)
    expect(fills.length).toBe(1)
    const pool = fills[0]!
    expect(pool.length).toBe(4096)
    expect(pool.subarray(0, 100).every((x) => x === 0)).toBe(true)
    expect(pool[100]).toBe(0xaa)
    for (let i = 0; i < 40; i++) randomBytes(100)
    expect(fills.length).toBe(2)
    randomBytes(1000) // above the pooled size: filled directly
    expect(fills.at(-1)!.length).toBe(1000)
  })
})
