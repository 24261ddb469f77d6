import { describe, expect, it } from 'vitest'
import { apis } from './test-helpers/backends.js'
import { bytes, catchCryptoError, expectCryptoError, hex, loadVectors } from './test-helpers/vectors.js'

const vectors = loadVectors('ed25519_test.json')
const h = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))

// RFC 8032 section 7.1, tests 1-3 (secret key = seed).
const rfc8032 = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pk: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    pk: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    msg: 'af82',
    sig: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
]

describe.each(apis)('Ed25519 (%s backend)', (_name, c) => {
  it('passes all 151 Wycheproof vectors with strict verification', () => {
    const failures: string[] = []
    let run = 0
    for (const group of vectors.testGroups) {
      const pk = bytes(group.publicKey as Record<string, unknown>, 'pk')
      for (const t of group.tests) {
        run++
        const msg = bytes(t, 'msg')
        const sig = bytes(t, 'sig')
        if (sig.length !== 64) {
          // Truncated or padded signatures are refused as bad input.
          const error = catchCryptoError(() => c.verify(pk, msg, sig))
          if (t.result === 'valid' || error?.code !== 'E_CRYPTO_INPUT') failures.push(`${t.tcId}: ${error?.code ?? 'no error'}`)
          continue
        }
        const ok = c.verify(pk, msg, sig)
        if (ok !== (t.result === 'valid')) failures.push(`${t.tcId} (${t.flags.join(',')}): got ${ok}`)
      }
    }
    expect(failures).toEqual([])
    expect(run).toBe(vectors.numberOfTests)
    expect(run).toBe(151)
  })

  it('signs RFC 8032 section 7.1 tests 1-3 exactly', () => {
    for (const v of rfc8032) {
      expect(hex(c.signingPublicKey(h(v.seed)))).toBe(v.pk)
      expect(hex(c.sign(h(v.seed), h(v.msg)))).toBe(v.sig)
      expect(hex(c.createSigner(h(v.seed)).sign(h(v.msg)))).toBe(v.sig)
      expect(c.verify(h(v.pk), h(v.msg), h(v.sig))).toBe(true)
    }
  })

  it('signs and verifies with generated keys and signers', () => {
    const { secretKey, publicKey } = c.generateSigningKeyPair()
    expect(secretKey.length).toBe(32)
    expect(publicKey).toEqual(c.signingPublicKey(secretKey))
    const signer = c.createSigner(secretKey)
    expect(signer.publicKey).toEqual(publicKey)
    const msg = c.randomBytes(100)
    const sig = signer.sign(msg)
    expect(sig).toEqual(c.sign(secretKey, msg))
    expect(c.verify(publicKey, msg, sig)).toBe(true)
    msg[0]! ^= 1
    expect(c.verify(publicKey, msg, sig)).toBe(false)
  })

  it('keeps signing after the caller wipes the secret key', () => {
    const { secretKey, publicKey } = c.generateSigningKeyPair()
    const signer = c.createSigner(secretKey)
    secretKey.fill(0)
    expect(c.verify(publicKey, new Uint8Array(3), signer.sign(new Uint8Array(3)))).toBe(true)
  })

  it('returns false, never throws, for garbage keys and signatures of the right length', () => {
    for (let i = 0; i < 50; i++) {
      expect(c.verify(c.randomBytes(32), c.randomBytes(10), c.randomBytes(64))).toBe(false)
    }
    expect(c.verify(new Uint8Array(32).fill(0xff), new Uint8Array(0), new Uint8Array(64))).toBe(false)
  })

  it('checks types and lengths', () => {
    expectCryptoError(() => c.sign(new Uint8Array(64), new Uint8Array(1)), 'E_CRYPTO_INPUT', 'secretKey must be 32 bytes, got 64')
    expectCryptoError(() => c.sign(new Uint8Array(32), 'hi' as never), 'E_CRYPTO_INPUT', 'message must be a Uint8Array, got string')
    expectCryptoError(() => c.verify(new Uint8Array(31), new Uint8Array(1), new Uint8Array(64)), 'E_CRYPTO_INPUT', 'publicKey must be 32 bytes, got 31')
    expectCryptoError(() => c.verify(new Uint8Array(32), new Uint8Array(1), new Uint8Array(63)), 'E_CRYPTO_INPUT', 'signature must be 64 bytes, got 63')
    expectCryptoError(() => c.createSigner(new Uint8Array(32)).sign([1] as never), 'E_CRYPTO_INPUT', 'message must be a Uint8Array, got Array')
    expectCryptoError(() => c.signingPublicKey(new Uint16Array(16) as never), 'E_CRYPTO_INPUT', 'secretKey must be a Uint8Array, got Uint16Array')
  })
})
