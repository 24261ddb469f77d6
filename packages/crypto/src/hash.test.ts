import { describe, expect, it } from 'vitest'
import { encodeParts } from './hash.js'
import { apis } from './test-helpers/backends.js'
import { expectCryptoError, hex } from './test-helpers/vectors.js'

const enc = (s: string) => new TextEncoder().encode(s)

describe.each(apis)('hashes (%s backend)', (_name, c) => {
  it('computes SHA-256 known answers (FIPS 180-4 examples)', () => {
    expect(hex(c.sha256(new Uint8Array(0)))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(hex(c.sha256(enc('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  it('computes HMAC-SHA256 known answers (RFC 4231 test cases 1 and 2)', () => {
    expect(hex(c.hmacSha256(new Uint8Array(20).fill(0x0b), enc('Hi There')))).toBe(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    )
    expect(hex(c.hmacSha256(enc('Jefe'), enc('what do ya want for nothing?')))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    )
  })

  it('computes keyed BLAKE2b-128 known answers (values from Python\'s hashlib.blake2b, the reference implementation)', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i)
    expect(hex(c.blake2bMac128(key, Uint8Array.from({ length: 40 }, (_, i) => 100 + i)))).toBe('0d74d4afd5b0acdea31cf4984ed76f8c')
    expect(hex(c.blake2bMac128(key, new Uint8Array(0)))).toBe('3daf97bce7888fd59773c66bf647459c')
    // Longer than one BLAKE2b block (128 bytes), and than the buffer the sodium backend copies short inputs into.
    expect(hex(c.blake2bMac128(key, Uint8Array.from({ length: 200 }, (_, i) => i % 251)))).toBe('8aa5152a0f33a31b72568b613ea3c92e')
  })

  it('blake2bMac128 takes a 32-byte key only', () => {
    expectCryptoError(() => c.blake2bMac128(new Uint8Array(31), new Uint8Array(1)), 'E_CRYPTO_INPUT', 'key must be 32 bytes, got 31')
  })

  it('hashParts separates part boundaries, counts and contexts', () => {
    const d = (ctx: string, ...p: string[]) => hex(c.hashParts(ctx, ...p.map(enc)))
    const all = [d('ctx', 'ab', 'c'), d('ctx', 'a', 'bc'), d('ctx', 'abc'), d('ctx', 'abc', ''), d('ctx'), d('ctx', ''), d('ctx2', 'abc'), d('ct', 'xabc')]
    expect(new Set(all).size).toBe(all.length)
    expect(d('ctx', 'ab', 'c')).toBe(d('ctx', 'ab', 'c'))
  })

  it('hashParts is SHA-256 of varint-prefixed context and parts', () => {
    expect(hex(encodeParts(enc('ab'), [enc('c'), new Uint8Array(0)]))).toBe('0261620163' + '00')
    expect(hex(encodeParts(enc('x'), [new Uint8Array(300)])).slice(0, 8)).toBe('0178ac02')
    expect(c.hashParts('ab', enc('c'), new Uint8Array(0))).toEqual(c.sha256(Uint8Array.from([2, 0x61, 0x62, 1, 0x63, 0])))
  })

  it('checks types', () => {
    expectCryptoError(() => c.sha256('abc' as never), 'E_CRYPTO_INPUT', 'data must be a Uint8Array, got string')
    expectCryptoError(() => c.hmacSha256(undefined as never, new Uint8Array(1)), 'E_CRYPTO_INPUT', 'key must be a Uint8Array, got undefined')
    expectCryptoError(() => c.hashParts('', new Uint8Array(1)), 'E_CRYPTO_INPUT', 'context must be a non-empty string')
    expectCryptoError(() => c.hashParts('ctx', new Uint8Array(1), 'x' as never), 'E_CRYPTO_INPUT', 'parts[1] must be a Uint8Array, got string')
  })
})
