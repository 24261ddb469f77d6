import { aeadOpen, aeadSeal, allocBytes, randomBytes, utf8 } from '@mindsync/crypto'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { assembleEnvelope, caught, expectCode, filled, flipped, testDevice } from '../test-fixtures/helpers.js'
import {
  EnvelopeKind,
  MAX_BODY_BYTES,
  NONCE_BYTES,
  PROTOCOL_VERSION,
  SIGNATURE_BYTES,
  decodeEnvelope,
  encodeHeader,
  envelopeHash,
  openEnvelope,
  sealEnvelope,
  verifyEnvelope,
  envelopeTags,
  withTags,
} from './envelope.js'
import type { Envelope, EnvelopeHeader } from './envelope.js'
import { deriveKey } from './keys.js'
import { paddedLength } from './padding.js'

const alice = testDevice(1)
const bob = testDevice(2)
const epochKey = filled(32, 0x42)
const key = deriveKey(epochKey, 'envelope')

function header(overrides: Partial<EnvelopeHeader> = {}): EnvelopeHeader {
  return {
    kind: EnvelopeKind.update,
    vaultId: filled(16, 0xaa),
    docId: filled(16, 0xdd),
    epoch: 3,
    deviceId: alice.deviceId,
    seq: 7,
    prevHash: filled(32, 0x11),
    ...overrides,
  }
}

function seal(plaintext = utf8.encode('sat for 20 minutes'), overrides: Partial<EnvelopeHeader> = {}): Envelope {
  return sealEnvelope({ ...header(overrides), key, signer: alice.signer, plaintext })
}

/** Decode, verify and open: the whole path a receiving device takes. Throws on the first failure. */
function receive(bytes: Uint8Array): Uint8Array {
  const env = decodeEnvelope(bytes)
  if (!verifyEnvelope(env, alice.signPub)) throw new Error('signature does not verify')
  return openEnvelope(env, key)
}

describe('envelope', () => {
  it.each(Object.entries(EnvelopeKind))('seals, decodes, verifies and opens a %s envelope', (_name, kind) => {
    const plaintext = randomBytes(100)
    const seq = kind === EnvelopeKind.awareness ? 0 : 1
    const covers = kind === EnvelopeKind.snapshot ? [{ deviceId: bob.deviceId, seq: 3, hash: filled(32, 3) }] : undefined
    const sealed = seal(plaintext, { kind, seq, covers })
    const env = decodeEnvelope(sealed.bytes)
    expect(env.header).toEqual(header({ kind, seq, covers }))
    expect(env.headerBytes).toEqual(encodeHeader(header({ kind, seq, covers })))
    expect(env.nonce).toEqual(sealed.nonce)
    expect(env.ciphertext).toEqual(sealed.ciphertext)
    expect(env.signature).toEqual(sealed.signature)
    expect(env.signed).toEqual(sealed.signed)
    expect(env.signed.length + SIGNATURE_BYTES).toBe(env.bytes.length)
    expect(verifyEnvelope(env, alice.signPub)).toBe(true)
    expect(verifyEnvelope(env, bob.signPub)).toBe(false)
    expect(openEnvelope(env, key)).toEqual(plaintext)
    expect(envelopeHash(env)).toEqual(envelopeHash(sealed))
  })

  it('lays out header, body and signature as PROTOCOL.md says', () => {
    const env = seal(new Uint8Array(10))
    const h = env.headerBytes
    expect(h[0]).toBe(PROTOCOL_VERSION)
    expect(h[1]).toBe(EnvelopeKind.update)
    // version, kind, vault, doc, epoch (1 byte here), device, seq (1 byte), prevHash
    expect(h.length).toBe(1 + 1 + 16 + 16 + 1 + 16 + 1 + 32)
    // 10 bytes + marker pad to 64, then the 16-byte tag
    expect(env.ciphertext.length).toBe(paddedLength(11) + 16)
    expect(env.nonce.length).toBe(NONCE_BYTES)
    expect(env.bytes.length).toBe(h.length + 1 + NONCE_BYTES + 64 + 16 + SIGNATURE_BYTES)
  })

  it('pads bodies, so nearby sizes give the same envelope length', () => {
    expect(seal(new Uint8Array(1)).bytes.length).toBe(seal(new Uint8Array(60)).bytes.length)
    expect(seal(new Uint8Array(600)).bytes.length).toBe(seal(new Uint8Array(1000)).bytes.length)
  })

  it('opens bodies into memory shared with nothing but other opened bodies: no envelope, and no key opened next to them', () => {
    // An app's Yjs value can be a view of the opened update: its .buffer must not reach anything else.
    const wrapped = aeadSeal(key, new Uint8Array(24), randomBytes(96))
    const bodies = Array.from({ length: 20 }, (_, i) => seal(utf8.encode(`entry ${i}`)))
    const opened = bodies.map((env) => openEnvelope(env, key))
    const keyBytes = aeadOpen(key, new Uint8Array(24), wrapped)
    const others = new Set<ArrayBufferLike>([...bodies.map((env) => env.bytes.buffer), keyBytes.buffer, allocBytes(1).buffer])
    for (const body of opened) expect(others.has(body.buffer)).toBe(false)
    expect(keyBytes.byteLength).toBe(keyBytes.buffer.byteLength)
  })

  it('draws a fresh nonce for every envelope', () => {
    expect(seal().nonce).not.toEqual(seal().nonce)
  })

  it('binds the header as associated data: a changed header, even re-signed, does not open', () => {
    const env = seal()
    const changes: Partial<EnvelopeHeader>[] = [
      { kind: EnvelopeKind.checkpoint },
      { vaultId: filled(16, 0xab) },
      { docId: filled(16, 0xde) },
      { epoch: 4 },
      { deviceId: bob.deviceId },
      { seq: 8 },
      { prevHash: filled(32, 0x12) },
    ]
    for (const change of changes) {
      const forged = decodeEnvelope(assembleEnvelope(header(change), env.nonce, env.ciphertext, alice.signer))
      expect(verifyEnvelope(forged, alice.signPub)).toBe(true)
      expectCode(() => openEnvelope(forged, key), 'E_DECRYPT', 'body')
    }
    // Every single header byte, flipped and re-signed.
    const original = env.headerBytes
    let reSigned = 0
    for (let i = 0; i < original.length; i++) {
      const bytes = assembleEnvelope(flipped(original, i), env.nonce, env.ciphertext, alice.signer)
      let forged: Envelope
      try {
        forged = decodeEnvelope(bytes)
      } catch {
        continue // the flip made the header malformed (version, kind)
      }
      expect(verifyEnvelope(forged, alice.signPub)).toBe(true)
      expectCode(() => openEnvelope(forged, key), 'E_DECRYPT')
      reSigned++
    }
    expect(reSigned).toBe(original.length - 2)
  })

  it('fails to decode, verify or open when any single byte is flipped', () => {
    const env = seal(utf8.encode('calm'))
    expect(receive(env.bytes)).toEqual(utf8.encode('calm'))
    for (let i = 0; i < env.bytes.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        expect(() => receive(flipped(env.bytes, i, mask)), `byte ${i} ^ ${mask}`).toThrow()
      }
    }
  })

  it('does not open under another key', () => {
    const env = decodeEnvelope(seal().bytes)
    expectCode(() => openEnvelope(env, deriveKey(filled(32, 0x43), 'envelope')), 'E_DECRYPT')
    expectCode(() => openEnvelope(env, deriveKey(epochKey, 'meta')), 'E_DECRYPT')
  })

  it('refuses an envelope cut at any length with E_BAD_FRAME naming the field', () => {
    const env = seal(utf8.encode('x'))
    const fields = new Set<string>()
    for (let n = 0; n < env.bytes.length; n++) {
      const err = expectCode(() => decodeEnvelope(env.bytes.subarray(0, n)), 'E_BAD_FRAME')
      expect(err.field, `cut at ${n}`).toBeTruthy()
      expect(err.message).toContain(err.field)
      fields.add(err.field as string)
    }
    expect([...fields].sort()).toEqual(['body', 'body length', 'deviceId', 'docId', 'epoch', 'kind', 'prevHash', 'seq', 'signature', 'vaultId', 'version'].sort())
    expect(caught(() => decodeEnvelope(env.bytes.subarray(0, 3))).message).toMatch(/vaultId needs 16 bytes, only 1 left/)
  })

  it('refuses bytes after the signature that are not a receiver-tags trailer', () => {
    const env = seal()
    // An empty trailer would give one tag list two encodings.
    expect(expectCode(() => decodeEnvelope(Uint8Array.of(...env.bytes, 0)), 'E_BAD_FRAME', 'tags count').message).toMatch(/at least one tag/)
    expectCode(() => decodeEnvelope(Uint8Array.of(...env.bytes, 1, 1, 2, 3)), 'E_BAD_FRAME', 'tags[0].to')
    expect(expectCode(() => decodeEnvelope(Uint8Array.of(...env.bytes, 2, ...new Uint8Array(20), 1, 2, 3, 4, 5)), 'E_BAD_FRAME', 'tags[1].tag').message).toMatch(/needs 16 bytes, only 1 left/)
    const tagged = withTags(env, [{ to: filled(4, 1), tag: filled(16, 2) }])
    const err = expectCode(() => decodeEnvelope(Uint8Array.of(...tagged.bytes, 0)), 'E_BAD_FRAME', 'end')
    expect(err.message).toMatch(/1 unexpected trailing bytes/)
  })

  it('carries receiver tags after the signature without changing what is signed or hashed', () => {
    const env = seal()
    const tags = [
      { to: filled(4, 1), tag: filled(16, 2) },
      { to: filled(4, 3), tag: filled(16, 4) },
    ]
    const tagged = decodeEnvelope(withTags(env, tags).bytes)
    expect(envelopeTags(tagged)).toEqual(tags)
    expect(tagged.bytes.length).toBe(env.bytes.length + 1 + 2 * 20)
    expect(envelopeHash(tagged)).toEqual(envelopeHash(env))
    expect(verifyEnvelope(tagged, alice.signPub)).toBe(true)
    // Replaced, and removed: back to the untagged bytes.
    expect(withTags(tagged, []).bytes).toEqual(env.bytes)
    expect(envelopeTags(decodeEnvelope(env.bytes))).toEqual([])
    expect(() => withTags(env, [{ to: filled(3, 1), tag: filled(16, 2) }])).toThrow(/4 \+ 16 bytes/)
  })

  it('refuses an unknown version or kind', () => {
    const env = seal()
    const v2 = env.bytes.slice()
    v2[0] = 2
    expect(caught(() => decodeEnvelope(v2)).message).toMatch(/version 2 is not supported/)
    expectCode(() => decodeEnvelope(v2), 'E_BAD_FRAME', 'version')
    for (const kind of [0, 5, 255]) {
      const bad = env.bytes.slice()
      bad[1] = kind
      expectCode(() => decodeEnvelope(bad), 'E_BAD_FRAME', 'kind')
    }
  })

  it('requires seq 0 for awareness and at least 1 for every other kind', () => {
    const nonce = new Uint8Array(NONCE_BYTES)
    const ct = new Uint8Array(80)
    expectCode(() => decodeEnvelope(assembleEnvelope(header({ kind: EnvelopeKind.awareness, seq: 1 }), nonce, ct, alice.signer)), 'E_BAD_FRAME', 'seq')
    for (const kind of [EnvelopeKind.update, EnvelopeKind.snapshot, EnvelopeKind.checkpoint]) {
      const covers = kind === EnvelopeKind.snapshot ? [] : undefined
      expectCode(() => decodeEnvelope(assembleEnvelope(header({ kind, seq: 0, covers }), nonce, ct, alice.signer)), 'E_BAD_FRAME', 'seq')
    }
    expect(decodeEnvelope(assembleEnvelope(header({ kind: EnvelopeKind.awareness, seq: 0 }), nonce, ct, alice.signer)).header.seq).toBe(0)
  })

  it('carries the heads a snapshot covers in the signed, authenticated header, sorted by device', () => {
    const covers = [
      { deviceId: filled(16, 0x22), seq: 5, hash: filled(32, 0x05) },
      { deviceId: filled(16, 0x11), seq: 9, hash: filled(32, 0x09) },
    ]
    const env = sealEnvelope({ ...header({ kind: EnvelopeKind.snapshot, covers }), key, signer: alice.signer, plaintext: utf8.encode('state') })
    const back = decodeEnvelope(env.bytes)
    expect(back.header.covers).toEqual([covers[1], covers[0]])
    expect(verifyEnvelope(back, alice.signPub)).toBe(true)
    // Another head, even re-signed, does not open: the heads are associated data.
    const forged = decodeEnvelope(assembleEnvelope(header({ kind: EnvelopeKind.snapshot, covers: [{ ...covers[1]!, seq: 10 }, covers[0]!] }), back.nonce, back.ciphertext, alice.signer))
    expectCode(() => openEnvelope(forged, key), 'E_DECRYPT', 'body')
  })

  it('refuses ids and hashes of the wrong size before writing anything (they are written without a length)', () => {
    expect(expectCode(() => encodeHeader(header({ deviceId: filled(32, 1) })), 'E_INVALID_INPUT', 'deviceId').message).toBe('envelope: deviceId must be 16 bytes, got 32 bytes')
    expectCode(() => encodeHeader(header({ vaultId: filled(15, 1) })), 'E_INVALID_INPUT', 'vaultId')
    expectCode(() => encodeHeader(header({ docId: filled(32, 1) })), 'E_INVALID_INPUT', 'docId')
    expectCode(() => encodeHeader(header({ prevHash: filled(16, 1) })), 'E_INVALID_INPUT', 'prevHash')
    const a = { deviceId: filled(16, 0x11), seq: 1, hash: filled(32, 1) }
    expectCode(() => encodeHeader(header({ kind: EnvelopeKind.snapshot, covers: [a, { ...a, deviceId: filled(16, 0x22), hash: filled(31, 1) }] })), 'E_INVALID_INPUT', 'covers[1].hash')
    expectCode(() => sealEnvelope({ ...header({ deviceId: filled(32, 1) }), key, signer: alice.signer, plaintext: utf8.encode('x') }), 'E_INVALID_INPUT', 'deviceId')
  })

  it('requires covers on a snapshot and only there, one per device, seq at least 1, in order', () => {
    const nonce = new Uint8Array(NONCE_BYTES)
    const ct = new Uint8Array(80)
    const a = { deviceId: filled(16, 0x11), seq: 1, hash: filled(32, 1) }
    expectCode(() => encodeHeader(header({ kind: EnvelopeKind.snapshot })), 'E_INVALID_INPUT', 'covers')
    expectCode(() => encodeHeader(header({ covers: [a] })), 'E_INVALID_INPUT', 'covers')
    expectCode(() => encodeHeader(header({ kind: EnvelopeKind.snapshot, covers: [a, a] })), 'E_INVALID_INPUT', 'covers')
    expectCode(() => encodeHeader(header({ kind: EnvelopeKind.snapshot, covers: [{ ...a, seq: 0 }] })), 'E_INVALID_INPUT', 'covers')
    // Out of order on the wire (written by hand): refused when decoding.
    const valid = encodeHeader(header({ kind: EnvelopeKind.snapshot, covers: [a, { ...a, deviceId: filled(16, 0x22) }] }))
    const swapped = new Uint8Array(valid)
    const start = valid.length - 2 * (16 + 1 + 32)
    swapped.set(valid.subarray(start + 49, start + 98), start)
    swapped.set(valid.subarray(start, start + 49), start + 49)
    const e = encoding.createEncoder()
    encoding.writeUint8Array(e, swapped)
    encoding.writeVarUint(e, NONCE_BYTES + ct.length)
    encoding.writeUint8Array(e, nonce)
    encoding.writeUint8Array(e, ct)
    encoding.writeUint8Array(e, new Uint8Array(64))
    expectCode(() => decodeEnvelope(encoding.toUint8Array(e)), 'E_BAD_FRAME', 'covers')
  })

  it('refuses a body shorter than nonce and tag, and one over the limit', () => {
    expectCode(() => decodeEnvelope(assembleEnvelope(header(), new Uint8Array(NONCE_BYTES), new Uint8Array(15), alice.signer)), 'E_BAD_FRAME', 'body')
    expect(decodeEnvelope(assembleEnvelope(header(), new Uint8Array(NONCE_BYTES), new Uint8Array(16), alice.signer)).ciphertext.length).toBe(16)
    const env = seal(new Uint8Array(2000))
    const err = expectCode(() => decodeEnvelope(env.bytes, 1024), 'E_BAD_FRAME', 'body')
    expect(err.message).toMatch(/above the limit of 1024/)
    // A claimed length over the hard ceiling is refused before anything is read.
    const e = encoding.createEncoder()
    encoding.writeUint8Array(e, encodeHeader(header()))
    encoding.writeVarUint(e, MAX_BODY_BYTES + 1)
    expectCode(() => decodeEnvelope(encoding.toUint8Array(e)), 'E_BAD_FRAME', 'body')
  })

  it('refuses an epoch above 2^32 - 1', () => {
    const bytes = assembleEnvelope(header({ epoch: 2 ** 32 }), new Uint8Array(NONCE_BYTES), new Uint8Array(16), alice.signer)
    expectCode(() => decodeEnvelope(bytes), 'E_BAD_FRAME', 'epoch')
    expect(decodeEnvelope(assembleEnvelope(header({ epoch: 2 ** 32 - 1 }), new Uint8Array(NONCE_BYTES), new Uint8Array(16), alice.signer)).header.epoch).toBe(2 ** 32 - 1)
  })

  it('chains: the hash covers header and body but not the signature', () => {
    const a = seal(utf8.encode('one'))
    const b = seal(utf8.encode('one'))
    expect(envelopeHash(a)).not.toEqual(envelopeHash(b)) // different nonces
    expect(envelopeHash(a)).toHaveLength(32)
    const resigned = decodeEnvelope(Uint8Array.of(...a.signed, ...new Uint8Array(SIGNATURE_BYTES)))
    expect(envelopeHash(resigned)).toEqual(envelopeHash(a))
    expect(verifyEnvelope(resigned, alice.signPub)).toBe(false)
  })

  it('is a view over the bytes it decoded, without copies', () => {
    const env = seal()
    const decoded = decodeEnvelope(env.bytes)
    expect(decoded.bytes).toBe(env.bytes)
    expect(decoded.signed.buffer).toBe(env.bytes.buffer)
  })
})
