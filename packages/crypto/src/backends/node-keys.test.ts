import { describe, expect, it } from 'vitest'
import { privateFromDer, privateKeyObject, publicKeyObject, rawPublicKey } from './node-keys.js'
import { backend as noble } from './noble.js'

describe('node KeyObjects from raw keys', () => {
  it('JWK fast path and DER fallback give the same keys as noble', () => {
    for (let i = 0; i < 20; i++) {
      const seed = crypto.getRandomValues(new Uint8Array(32))
      const ed = noble.ed25519PublicKey(seed)
      const x = noble.x25519PublicKey(seed)
      expect(rawPublicKey(privateKeyObject('ed25519', seed))).toEqual(ed)
      expect(rawPublicKey(privateFromDer('ed25519', seed))).toEqual(ed)
      expect(rawPublicKey(privateKeyObject('x25519', seed))).toEqual(x)
      expect(rawPublicKey(privateFromDer('x25519', seed))).toEqual(x)
      expect(publicKeyObject('ed25519', ed).export({ format: 'jwk' }).x).toBe(Buffer.from(ed).toString('base64url'))
    }
  })
})
