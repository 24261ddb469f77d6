import { hmacSha256, utf8 } from '@mindsync/crypto'
import { describe, expect, it } from 'vitest'
import { concatBytes } from './bytes.js'
import { expectCode, filled, flipped, testDevice } from '../test-fixtures/helpers.js'
import { deriveKey } from './keys.js'
import { openLockbox, openMeta, sealLockbox, sealMeta } from './lockbox.js'

const A = testDevice(1)
const B = testDevice(2)
const vaultId = filled(16, 0xaa)
const keys = new Map([
  [2, filled(32, 0x42)],
  [0, filled(32, 0x40)],
  [1, filled(32, 0x41)],
])
// What packages/client puts in a new device's lockbox: HMAC(pairing secret, "mindsync/v1/pair\0" • vaultId).
const proof = hmacSha256(filled(16, 0x5e), concatBytes(utf8.encode('mindsync/v1/pair\0'), vaultId))

describe('lockbox', () => {
  it('seals every epoch key and the pairing proof to one device', () => {
    const box = sealLockbox(B.dhPub, keys, vaultId, 2, proof)
    const opened = openLockbox(B.dhSecret, box, vaultId, 2)
    expect(opened.keys).toEqual(keys)
    expect([...opened.keys.keys()]).toEqual([0, 1, 2]) // sealed in epoch order
    expect(opened.proof).toEqual(proof)
  })

  it('has an empty proof unless one is given', () => {
    expect(openLockbox(A.dhSecret, sealLockbox(A.dhPub, keys, vaultId, 0), vaultId, 0).proof).toEqual(new Uint8Array(0))
  })

  it('is fresh every time (ephemeral key and nonce)', () => {
    expect(sealLockbox(A.dhPub, keys, vaultId, 0)).not.toEqual(sealLockbox(A.dhPub, keys, vaultId, 0))
  })

  it('has the size PROTOCOL.md gives: 32 + 24 + contents + 16', () => {
    // contents: varUint(3) • 3 × (varUint(epoch) • key(32)) • varUint(32) • proof(32)
    expect(sealLockbox(A.dhPub, keys, vaultId, 2, proof).length).toBe(32 + 24 + (1 + 3 * 33 + 1 + 32) + 16)
  })

  it('does not open for another device', () => {
    expectCode(() => openLockbox(A.dhSecret, sealLockbox(B.dhPub, keys, vaultId, 2), vaultId, 2), 'E_DECRYPT')
  })

  it('is bound to the vault and the epoch of its op', () => {
    const box = sealLockbox(B.dhPub, keys, vaultId, 2, proof)
    expectCode(() => openLockbox(B.dhSecret, box, filled(16, 0xab), 2), 'E_DECRYPT')
    expectCode(() => openLockbox(B.dhSecret, box, vaultId, 1), 'E_DECRYPT')
    expectCode(() => openLockbox(B.dhSecret, box, vaultId, 3), 'E_DECRYPT')
  })

  it('does not open once any byte changed, or when cut short', () => {
    const box = sealLockbox(B.dhPub, keys, vaultId, 2)
    for (let i = 0; i < box.length; i++) expectCode(() => openLockbox(B.dhSecret, flipped(box, i), vaultId, 2), 'E_DECRYPT')
    for (const n of [0, 31, 56, 71, box.length - 1]) expectCode(() => openLockbox(B.dhSecret, box.subarray(0, n), vaultId, 2), 'E_DECRYPT')
  })

  it('refuses well-sealed contents that are malformed', () => {
    expectCode(() => openLockbox(B.dhSecret, sealLockbox(B.dhPub, keys, vaultId, 2, new Uint8Array(65)), vaultId, 2), 'E_BAD_FRAME', 'proof')
  })
})

describe('sealed metadata', () => {
  const metaKey = deriveKey(filled(32, 0x40), 'meta')

  it('round-trips a JSON value', () => {
    const sealed = sealMeta(metaKey, { name: 'Phone ☾' })
    expect(openMeta(metaKey, sealed)).toEqual({ name: 'Phone ☾' })
    expect(sealed.length).toBe(24 + utf8.encode('{"name":"Phone ☾"}').length + 16)
  })

  it('does not open under another key, changed, or cut short', () => {
    const sealed = sealMeta(metaKey, { name: 'Laptop' })
    expectCode(() => openMeta(deriveKey(filled(32, 0x41), 'meta'), sealed), 'E_DECRYPT')
    expectCode(() => openMeta(deriveKey(filled(32, 0x40), 'envelope'), sealed), 'E_DECRYPT')
    for (let i = 0; i < sealed.length; i++) expectCode(() => openMeta(metaKey, flipped(sealed, i)), 'E_DECRYPT')
    for (const n of [0, 10, 24, 39]) expectCode(() => openMeta(metaKey, sealed.subarray(0, n)), 'E_DECRYPT')
  })
})
