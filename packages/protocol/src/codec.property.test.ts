// Property tests: random values round-trip through every encoding, and random
// or mutated bytes never make a decoder throw anything but E_BAD_FRAME.
// A failure prints its seed; pass it back as `{ seed, path }` to replay it.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { assembleEnvelope, filled, testDevice } from '../test-fixtures/helpers.js'
import { MindsyncError } from './errors.js'
import { EnvelopeKind, decodeEnvelope, encodeHeader, openEnvelope, sealEnvelope, verifyEnvelope } from './envelope.js'
import type { EnvelopeHeader } from './envelope.js'
import { deriveKey } from './keys.js'
import { openLockbox } from './lockbox.js'
import { OpType, decodeOp, signOp, verifyOpSignature } from './membershipOp.js'
import type { OpFields } from './membershipOp.js'
import { unpad } from './padding.js'
import { decodeFrame, encodeFrame } from './wire.js'
import type { Message } from './wire.js'

const RUNS = { numRuns: 500 }
const alice = testDevice(1)
const key = deriveKey(filled(32, 0x42), 'envelope')

const bytesOf = (length: number) => fc.uint8Array({ minLength: length, maxLength: length })
const blob = (maxLength = 300) => fc.uint8Array({ maxLength })
const id16 = bytesOf(16)
const uint = fc.maxSafeNat()
// Up to 1000 code points is at most 4000 UTF-8 bytes, under the 4096-byte limit; sometimes with a leading BOM.
const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 1000 }), fc.string({ maxLength: 20 }).map((s) => `\uFEFF${s}`))

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('hello' as const), opsFrom: uint }),
  fc.record({ type: fc.constant('subscribe' as const), docId: id16, cursor: uint }),
  fc.record({ type: fc.constant('push' as const), envelope: blob() }),
  fc.record({ type: fc.constant('appendOp' as const), op: blob() }),
  fc.record({ type: fc.constant('removeOp' as const), op: blob(), heads: fc.array(fc.record({ docId: id16, seq: uint }), { maxLength: 4 }) }),
  fc.record({ type: fc.constant('awareness' as const), envelope: blob() }),
  fc.record({ type: fc.constant('fetch' as const), docId: id16, from: uint, to: uint }),
  fc.record({ type: fc.constant('welcome' as const), relayId: id16, vaultId: id16, deviceId: id16, serverTime: uint }),
  fc.record({ type: fc.constant('ops' as const), from: uint, ops: fc.array(blob(100), { maxLength: 5 }) }),
  fc.record({ type: fc.constant('envelopes' as const), docId: id16, items: fc.array(fc.record({ serverSeq: uint, envelope: blob(100) }), { maxLength: 5 }) }),
  fc.record({ type: fc.constant('caughtUp' as const), docId: id16, head: uint }),
  fc.record({ type: fc.constant('stored' as const), docId: id16, head: uint, heads: fc.array(fc.record({ deviceId: id16, seq: uint }), { maxLength: 4 }) }),
  fc.record({ type: fc.constant('ack' as const), docId: id16, seq: uint, serverSeq: uint }),
  fc.record({ type: fc.constant('opResult' as const), index: uint, code: text, message: text }),
  fc.record({ type: fc.constant('reject' as const), code: text, message: text, docId: id16, seq: uint }),
)

const header: fc.Arbitrary<EnvelopeHeader> = fc
  .record({
    kind: fc.constantFrom(...Object.values(EnvelopeKind)),
    vaultId: id16,
    docId: id16,
    epoch: fc.nat({ max: 0xffffffff }),
    deviceId: id16,
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    prevHash: bytesOf(32),
    covers: fc.uniqueArray(fc.record({ deviceId: id16, seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), hash: bytesOf(32) }), { maxLength: 5, selector: (c) => c.deviceId.join(',') }),
  })
  .map(({ covers, ...h }) => {
    if (h.kind === EnvelopeKind.awareness) return { ...h, seq: 0 }
    // Decoding returns covers sorted by device id.
    if (h.kind === EnvelopeKind.snapshot) return { ...h, covers: covers.sort((a, b) => Buffer.compare(a.deviceId, b.deviceId)) }
    return h
  })

const key32OrEmpty = fc.oneof(bytesOf(32), fc.constant(new Uint8Array(0)))
const opFields: fc.Arbitrary<OpFields> = fc.record({
  type: fc.constantFrom(...Object.values(OpType)),
  vaultId: id16,
  index: uint,
  prevHash: bytesOf(32),
  author: id16,
  time: uint,
  epoch: fc.nat({ max: 0xffffffff }),
  signPub: key32OrEmpty,
  dhPub: key32OrEmpty,
  scopes: fc.nat({ max: 0xff }),
  target: fc.oneof(id16, fc.constant(new Uint8Array(0))),
  lockboxes: fc.array(fc.record({ deviceId: id16, box: blob(200) }), { maxLength: 4 }),
  meta: blob(200),
})

/** Applies a few random edits (flip, insert, delete, cut, overlong varUint) to valid bytes. */
function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: blob(8) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('overlong' as const), at: fc.nat(), count: fc.integer({ min: 8, max: 200 }) }),
  )
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([bytes, edits]) => {
    let b = Array.from(bytes)
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % (b.length + 1)
      if (e.op === 'flip' && at < b.length) b[at] = (b[at] as number) ^ e.mask
      if (e.op === 'insert') b.splice(at, 0, ...e.bytes)
      if (e.op === 'delete') b.splice(at, e.count)
      if (e.op === 'cut') b = b.slice(0, at)
      if (e.op === 'overlong') b.splice(at, 0, ...new Array<number>(e.count).fill(0x80))
    }
    return Uint8Array.from(b)
  })
}

/** Runs a decoder on hostile input: it may succeed, or throw E_BAD_FRAME with a field; nothing else. */
function onlyBadFrame(decode: (b: Uint8Array) => unknown, bytes: Uint8Array): void {
  try {
    decode(bytes)
  } catch (e) {
    if (!(e instanceof MindsyncError)) throw new Error(`threw ${(e as Error)?.name}: ${(e as Error)?.message}`)
    expect(e.code).toBe('E_BAD_FRAME')
    expect(e.field).toBeTruthy()
  }
}

/** The numbers a decoder hands back must be safe integers: never NaN, never imprecise. */
function allSafe(value: unknown): boolean {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0
  if (value instanceof Uint8Array || typeof value !== 'object' || value === null) return true
  return Object.values(value).every(allSafe)
}

const validFrame = fc.array(message, { minLength: 1, maxLength: 4 }).map(encodeFrame)
const validEnvelope = fc.tuple(header, bytesOf(24), fc.uint8Array({ minLength: 16, maxLength: 120 })).map(([h, n, c]) => assembleEnvelope(h, n, c, alice.signer))
const validOp = opFields.map((f) => signOp(f, alice.signer).bytes)

describe('round trips', () => {
  it('random messages, alone and several to a frame', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), (messages) => {
        expect(decodeFrame(encodeFrame(messages))).toEqual(messages)
      }),
      RUNS,
    )
  })

  it('random headers and bodies', () => {
    fc.assert(
      fc.property(header, bytesOf(24), fc.uint8Array({ minLength: 16, maxLength: 200 }), (h, nonce, ciphertext) => {
        const env = decodeEnvelope(assembleEnvelope(h, nonce, ciphertext, alice.signer))
        expect(env.header).toEqual(h)
        expect(env.headerBytes).toEqual(encodeHeader(h))
        expect(env.nonce).toEqual(nonce)
        expect(env.ciphertext).toEqual(ciphertext)
        expect(verifyEnvelope(env, alice.signPub)).toBe(true)
      }),
      RUNS,
    )
  })

  it('random plaintexts, sealed and opened', () => {
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 3000 }), (h, plaintext) => {
        const env = decodeEnvelope(sealEnvelope({ ...h, key, signer: alice.signer, plaintext }).bytes)
        expect(verifyEnvelope(env, alice.signPub)).toBe(true)
        expect(openEnvelope(env, key)).toEqual(plaintext)
      }),
      RUNS,
    )
  })

  it('random membership ops', () => {
    fc.assert(
      fc.property(opFields, (fields) => {
        const op = decodeOp(signOp(fields, alice.signer).bytes)
        const { signature, signed, bytes, ...decoded } = op
        expect(decoded).toEqual(fields)
        expect(verifyOpSignature(op, alice.signPub)).toBe(true)
      }),
      RUNS,
    )
  })
})

describe('hostile input never crashes a decoder', () => {
  const inputs = (valid: fc.Arbitrary<Uint8Array>) => fc.oneof(fc.uint8Array({ maxLength: 400 }), mutated(valid))

  it('decodeFrame throws only E_BAD_FRAME, and returns only safe integers', () => {
    fc.assert(
      fc.property(inputs(validFrame), (bytes) => {
        onlyBadFrame((b) => expect(allSafe(decodeFrame(b))).toBe(true), bytes)
      }),
      { numRuns: 2000 },
    )
  })

  it('decodeEnvelope throws only E_BAD_FRAME', () => {
    fc.assert(
      fc.property(inputs(validEnvelope), (bytes) => {
        onlyBadFrame((b) => {
          const env = decodeEnvelope(b)
          expect(allSafe(env.header)).toBe(true)
          expect(env.bytes.length).toBe(env.signed.length + 64)
        }, bytes)
      }),
      { numRuns: 2000 },
    )
  })

  it('decodeOp throws only E_BAD_FRAME', () => {
    fc.assert(
      fc.property(inputs(validOp), (bytes) => {
        onlyBadFrame((b) => {
          const op = decodeOp(b)
          expect(allSafe({ index: op.index, time: op.time, epoch: op.epoch, scopes: op.scopes })).toBe(true)
        }, bytes)
      }),
      { numRuns: 2000 },
    )
  })

  it('unpad throws only E_BAD_FRAME', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => onlyBadFrame(unpad, bytes)), RUNS)
  })

  it('openLockbox and openEnvelope refuse random boxes with E_DECRYPT', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), validEnvelope, (box, envBytes) => {
        expect(() => openLockbox(alice.dhSecret, box, filled(16, 0xaa), 0)).toThrow(expect.objectContaining({ code: 'E_DECRYPT' }))
        expect(() => openEnvelope(decodeEnvelope(envBytes), key)).toThrow(expect.objectContaining({ code: 'E_DECRYPT' }))
      }),
      RUNS,
    )
  })
})
