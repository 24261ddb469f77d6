import { describe, expect, it } from 'vitest'
import * as root from './index.js'
import * as noble from './noble.js'

const api = [
  'KEY_BYTES', 'NONCE_BYTES', 'TAG_BYTES', 'SIGNATURE_BYTES', 'PUBLIC_KEY_BYTES', 'CryptoError', 'randomBytes',
  'aeadSeal', 'aeadOpen', 'generateSigningKeyPair', 'signingPublicKey', 'sign', 'verify', 'createSigner',
  'generateDhKeyPair', 'dhPublicKey', 'x25519', 'sealBox', 'openBox', 'hkdfSha256', 'argon2id', 'argon2idAsync',
  'sha256', 'hmacSha256', 'blake2bMac128', 'hashParts', 'constantTimeEqual', 'wipe', 'toHex', 'fromHex', 'toBase64Url',
  'fromBase64Url', 'utf8', 'backendName', 'concatBytes', 'allocBytes', 'createSlab', 'varUintLength', 'writeVarUint',
].sort()

describe('entry points', () => {
  it('root picks the native backend under Node (#backend import condition)', () => {
    expect(root.backendName).toBe('sodium')
  })

  it('the ./noble entry is the same API on the portable backend', () => {
    expect(noble.backendName).toBe('noble')
    expect(Object.keys(root).sort()).toEqual(api)
    expect(Object.keys(noble).sort()).toEqual(api)
  })

  it('exports the documented sizes', () => {
    expect([root.KEY_BYTES, root.NONCE_BYTES, root.TAG_BYTES, root.SIGNATURE_BYTES, root.PUBLIC_KEY_BYTES]).toEqual([32, 24, 16, 64, 32])
  })

  it('works end to end through the root entry', () => {
    const device = root.generateSigningKeyPair()
    const epochKey = root.randomBytes(root.KEY_BYTES)
    const nonce = root.randomBytes(root.NONCE_BYTES)
    const header = root.utf8.encode('header')
    const body = root.aeadSeal(epochKey, nonce, root.utf8.encode('note'), header)
    const sig = root.sign(device.secretKey, body)
    expect(noble.verify(device.publicKey, body, sig)).toBe(true)
    expect(root.utf8.decode(noble.aeadOpen(epochKey, nonce, body, header))).toBe('note')
  })
})

describe('portable backend', () => {
  it('never imports node:* (follows relative imports from src/noble.ts)', async () => {
    const { readFileSync } = await import('node:fs')
    const seen = new Set<string>()
    const offenders: string[] = []
    const visit = (url: URL) => {
      if (seen.has(url.href)) return
      seen.add(url.href)
      const source = readFileSync(url, 'utf8')
      for (const [, spec] of source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'([^']+)'/g)) {
        if (spec!.startsWith('node:') || spec === '#backend') offenders.push(`${url.pathname}: ${spec}`)
        else if (spec!.startsWith('.')) visit(new URL(spec!.replace(/\.js$/, '.ts'), url))
      }
    }
    visit(new URL('./noble.ts', import.meta.url))
    expect(seen.size).toBeGreaterThan(10)
    expect(offenders).toEqual([])
  })
})
