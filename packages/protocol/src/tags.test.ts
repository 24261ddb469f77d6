import { hkdfSha256 } from '@mindsync/crypto'
import { describe, expect, it } from 'vitest'
import { filled, testDevice } from '../test-fixtures/helpers.js'
import { EnvelopeKind, decodeEnvelope, envelopeHash, envelopeTags, sealEnvelope, withTags } from './envelope.js'
import { deriveKey } from './keys.js'
import { hasValidTag, pairTagKey, receiverTag, receiverView } from './tags.js'

const alice = testDevice(1)
const bob = testDevice(2)
const carol = testDevice(3)
const tagKey = (epoch: number) => deriveKey(filled(32, epoch), 'tags')
const pair = (me: typeof alice, them: typeof alice, epoch = 1) => pairTagKey(tagKey(epoch), me.dhSecret, them.dhPub, me.deviceId, them.deviceId)

function sealed(seq = 1) {
  const env = sealEnvelope({ kind: EnvelopeKind.update, vaultId: filled(16, 0xaa), docId: filled(16, 0xdd), epoch: 1, deviceId: alice.deviceId, seq, prevHash: filled(32, 0), key: deriveKey(filled(32, 1), 'envelope'), signer: alice.signer, plaintext: filled(10, seq) })
  return { env, hash: envelopeHash(env) }
}

/** Alice's envelope with a tag for bob and one for carol. */
function tagged(seq = 1) {
  const { env, hash } = sealed(seq)
  const out = decodeEnvelope(withTags(env, [receiverTag(pair(alice, bob), bob.deviceId, hash), receiverTag(pair(alice, carol), carol.deviceId, hash)]).bytes)
  return { env: out, hash }
}

describe('receiver tags', () => {
  it('both devices of a pair derive one key, different for every pair and epoch', () => {
    expect(pair(alice, bob)).toEqual(pair(bob, alice))
    expect(pair(alice, bob)).not.toEqual(pair(alice, carol))
    expect(pair(alice, bob, 1)).not.toEqual(pair(alice, bob, 2))
  })

  it('a tag is keyed BLAKE2b-128 of the envelope hash under the pair key (value from Python\'s hashlib.blake2b)', () => {
    const t = receiverTag(filled(32, 7), bob.deviceId, filled(32, 9))
    expect(Buffer.from(t.tag).toString('hex')).toBe('eea5acd7dc547d6b22db28534db8a7a6')
    expect(t.to).toEqual(bob.deviceId.subarray(0, 4))
  })

  it('a receiver accepts the tag addressed to it', () => {
    const { env, hash } = tagged()
    expect(hasValidTag(env, hash, bob.deviceId, pair(bob, alice))).toBe(true)
    expect(hasValidTag(env, hash, carol.deviceId, pair(carol, alice))).toBe(true)
  })

  it('a tag does not vouch for another envelope, another author, another epoch or a guessed key', () => {
    const { env, hash } = tagged(1)
    const other = sealed(2)
    // Tags of envelope 1 moved onto envelope 2.
    const moved = decodeEnvelope(withTags(other.env, envelopeTags(env)).bytes)
    expect(hasValidTag(moved, other.hash, bob.deviceId, pair(bob, alice))).toBe(false)
    // Carol, who holds the epoch key, cannot pass her envelope off to bob as alice's: she lacks their pair key.
    const carolsGuess = hkdfSha256(filled(32, 0), tagKey(1), 'guess', 32)
    const forged = decodeEnvelope(withTags(other.env, [receiverTag(carolsGuess, bob.deviceId, other.hash), receiverTag(pair(carol, bob), bob.deviceId, other.hash)]).bytes)
    expect(hasValidTag(forged, other.hash, bob.deviceId, pair(bob, alice))).toBe(false)
    expect(hasValidTag(env, hash, bob.deviceId, pair(bob, alice, 2))).toBe(false)
  })

  it('a damaged tag, or none, is not valid', () => {
    const { env, hash } = tagged()
    const bytes = env.bytes.slice()
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1 // carol's tag is last
    expect(hasValidTag(decodeEnvelope(bytes), hash, carol.deviceId, pair(carol, alice))).toBe(false)
    expect(hasValidTag(decodeEnvelope(bytes), hash, bob.deviceId, pair(bob, alice))).toBe(true)
    expect(hasValidTag(sealed().env, hash, bob.deviceId, pair(bob, alice))).toBe(false)
  })
})

describe('receiverView (what the relay sends one subscriber)', () => {
  const dave = { deviceId: Uint8Array.from([...carol.deviceId.subarray(0, 4), ...filled(12, 0x5e)]) }

  it('keeps only the receiver\'s tag: the envelope decodes to the same hash, and its tag still checks', () => {
    const { env, hash } = tagged()
    const forBob = receiverView(env.bytes, bob.deviceId)
    expect(forBob.length).toBe(env.bytes.length - 20)
    const seen = decodeEnvelope(forBob)
    expect(envelopeHash(seen)).toEqual(hash)
    expect(envelopeTags(seen).map((t) => t.to)).toEqual([bob.deviceId.subarray(0, 4)])
    expect(hasValidTag(seen, hash, bob.deviceId, pair(bob, alice))).toBe(true)
    expect(hasValidTag(decodeEnvelope(receiverView(env.bytes, carol.deviceId)), hash, carol.deviceId, pair(carol, alice))).toBe(true)
    // The input is not changed.
    expect(envelopeTags(decodeEnvelope(env.bytes))).toHaveLength(2)
  })

  it('drops the trailer for a device without a tag (it then verifies the signature), and keeps every tag sharing its prefix', () => {
    const { env } = tagged()
    const forAlice = decodeEnvelope(receiverView(env.bytes, alice.deviceId))
    expect(forAlice.tagBytes.length).toBe(0)
    expect(forAlice.bytes.length).toBe(env.signed.length + 64)
    // Dave shares carol's 4-byte prefix: he gets her tag, as he cannot tell it is not his.
    expect(envelopeTags(decodeEnvelope(receiverView(env.bytes, dave.deviceId))).map((t) => t.to)).toEqual([carol.deviceId.subarray(0, 4)])
  })

  it('finds the trailer behind a snapshot\'s covers; hands back untagged envelopes and bytes it cannot read as they are', () => {
    const covers = [{ deviceId: bob.deviceId, seq: 300, hash: filled(32, 3) }, { deviceId: carol.deviceId, seq: 2, hash: filled(32, 4) }]
    const snap = sealEnvelope({ kind: EnvelopeKind.snapshot, covers, vaultId: filled(16, 0xaa), docId: filled(16, 0xdd), epoch: 200, deviceId: alice.deviceId, seq: 7, prevHash: filled(32, 0), key: deriveKey(filled(32, 1), 'envelope'), signer: alice.signer, plaintext: filled(500, 1) })
    const hash = envelopeHash(snap)
    const withBoth = withTags(snap, [receiverTag(pair(alice, bob), bob.deviceId, hash), receiverTag(pair(alice, carol), carol.deviceId, hash)])
    const forCarol = decodeEnvelope(receiverView(withBoth.bytes, carol.deviceId))
    expect(forCarol.header.covers).toEqual(covers)
    expect(hasValidTag(forCarol, hash, carol.deviceId, pair(carol, alice))).toBe(true)
    expect(envelopeTags(forCarol)).toHaveLength(1)
    const plain = sealed().env.bytes
    expect(receiverView(plain, bob.deviceId)).toBe(plain)
    const junk = filled(40, 0xff)
    expect(receiverView(junk, bob.deviceId)).toBe(junk)
    const cut = withBoth.bytes.subarray(0, withBoth.bytes.length - 3)
    expect(receiverView(cut, bob.deviceId)).toBe(cut)
  })
})
