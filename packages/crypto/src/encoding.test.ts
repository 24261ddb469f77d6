import { describe, expect, it } from 'vitest'
import { fromBase64Url, fromHex, toBase64Url, toHex, toHexPortable, utf8, varUintLength, writeVarUint } from './encoding.js'
import { expectCryptoError } from './test-helpers/vectors.js'

describe('hex', () => {
  it('round-trips and matches Buffer', () => {
    const b = Uint8Array.from({ length: 256 }, (_, i) => i)
    expect(toHex(b)).toBe(Buffer.from(b).toString('hex'))
    expect(fromHex(toHex(b))).toEqual(b)
    expect(fromHex('ABcd')).toEqual(new Uint8Array([0xab, 0xcd]))
    expect(fromHex('')).toEqual(new Uint8Array(0))
  })

  it('encodes only the bytes of a view, on Node and without Buffer alike', () => {
    const whole = Uint8Array.from({ length: 64 }, (_, i) => 255 - i)
    for (const b of [whole, whole.subarray(5, 37), whole.subarray(63), whole.subarray(10, 10)]) {
      const expected = [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
      expect(toHex(b)).toBe(expected)
      expect(toHexPortable(b)).toBe(expected)
    }
  })

  it('is strict', () => {
    expectCryptoError(() => fromHex('abc'), 'E_CRYPTO_INPUT', 'hex string must have an even length, got 3')
    for (const bad of ['0g', ' 0', '0 ', '0x00', '+1', '-1', 'é0']) {
      expectCryptoError(() => fromHex(bad), 'E_CRYPTO_INPUT', 'hex string must contain only 0-9, a-f, A-F')
    }
    expectCryptoError(() => fromHex(12 as never), 'E_CRYPTO_INPUT', 's must be a string, got number')
    expectCryptoError(() => toHex('ab' as never), 'E_CRYPTO_INPUT', 'b must be a Uint8Array, got string')
  })
})

describe('base64url', () => {
  it('matches RFC 4648 section 10 vectors (unpadded) and Buffer', () => {
    const cases: Array<[string, string]> = [['', ''], ['f', 'Zg'], ['fo', 'Zm8'], ['foo', 'Zm9v'], ['foob', 'Zm9vYg'], ['fooba', 'Zm9vYmE'], ['foobar', 'Zm9vYmFy']]
    for (const [plain, encoded] of cases) {
      expect(toBase64Url(new TextEncoder().encode(plain))).toBe(encoded)
      expect(new TextDecoder().decode(fromBase64Url(encoded))).toBe(plain)
    }
    for (let n = 0; n < 70; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 89 + n * 7) & 255)
      expect(toBase64Url(b)).toBe(Buffer.from(b).toString('base64url'))
      expect(fromBase64Url(toBase64Url(b))).toEqual(b)
    }
    expect(toBase64Url(new Uint8Array([0xfb, 0xff]))).toBe('-_8')
  })

  it('is strict: alphabet, padding, length and trailing bits', () => {
    for (const bad of ['Zm9+', 'Zm9/', 'Zg==', 'Zg=', 'Zm 9', 'Zm9\n', 'Zé']) {
      expectCryptoError(() => fromBase64Url(bad), 'E_CRYPTO_INPUT', /invalid character at index \d+/)
    }
    expectCryptoError(() => fromBase64Url('Zm9vY'), 'E_CRYPTO_INPUT', 'base64url string has an impossible length 5')
    expectCryptoError(() => fromBase64Url('Zh'), 'E_CRYPTO_INPUT', 'base64url string has non-zero trailing bits')
    expectCryptoError(() => fromBase64Url('Zm9'), 'E_CRYPTO_INPUT', 'base64url string has non-zero trailing bits')
    expectCryptoError(() => fromBase64Url(null as never), 'E_CRYPTO_INPUT', 's must be a string, got null')
  })
})

describe('utf8', () => {
  it('round-trips, keeping a leading BOM', () => {
    for (const s of ['', 'calm', 'é😀', '\uFEFFbom']) expect(utf8.decode(utf8.encode(s))).toBe(s)
  })

  it('refuses invalid UTF-8 and lone surrogates', () => {
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]) {
      expectCryptoError(() => utf8.decode(new Uint8Array(bad)), 'E_CRYPTO_INPUT', 'bytes are not valid UTF-8')
    }
    for (const bad of ['\uD800', 'a\uDC00b', '\uDBFF']) {
      expectCryptoError(() => utf8.encode(bad), 'E_CRYPTO_INPUT', /lone surrogate/)
    }
    expectCryptoError(() => utf8.encode(1 as never), 'E_CRYPTO_INPUT', 's must be a string, got number')
  })
})

describe('varUint', () => {
  it('writes unsigned LEB128 as lib0 does, and says how long it is', () => {
    const cases: [number, number[]][] = [
      [0, [0]],
      [127, [0x7f]],
      [128, [0x80, 0x01]],
      [300, [0xac, 0x02]],
      [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x10]],
      [Number.MAX_SAFE_INTEGER, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]],
    ]
    for (const [n, bytes] of cases) {
      const out = new Uint8Array(12).fill(0xee)
      expect(writeVarUint(out, 2, n), `${n}`).toBe(2 + bytes.length)
      expect([...out.subarray(2, 2 + bytes.length)], `${n}`).toEqual(bytes)
      expect(out[2 + bytes.length]).toBe(0xee)
      expect(varUintLength(n)).toBe(bytes.length)
    }
  })
})
