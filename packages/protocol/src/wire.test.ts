import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { caught, expectCode, filled } from '../test-fixtures/helpers.js'
import { MessageType, decodeFrame, encodeFrame } from './wire.js'
import type { Message } from './wire.js'

const docId = filled(16, 0xdd)

/** One message of every type, with values that need multi-byte varUints. */
const everyMessage: Message[] = [
  { type: 'hello', opsFrom: 5 },
  { type: 'subscribe', docId, cursor: 300 },
  { type: 'push', envelope: filled(200, 1) },
  { type: 'appendOp', op: filled(150, 2) },
  { type: 'removeOp', op: filled(150, 3), heads: [{ docId: filled(16, 4), seq: 7 }, { docId: filled(16, 5), seq: 0 }] },
  { type: 'awareness', envelope: filled(90, 3) },
  { type: 'fetch', docId, from: 10, to: 2 ** 40 },
  { type: 'welcome', relayId: filled(16, 0xee), vaultId: filled(16, 0xaa), deviceId: filled(16, 0x01), serverTime: 1_700_000_000_000 },
  { type: 'ops', from: 3, ops: [filled(10, 4), new Uint8Array(0), filled(200, 5)] },
  { type: 'envelopes', docId, items: [{ serverSeq: 1, envelope: filled(130, 6) }, { serverSeq: 2 ** 32, envelope: filled(5, 7) }] },
  { type: 'caughtUp', docId, head: 12345 },
  { type: 'stored', docId, head: 12346, heads: [{ deviceId: docId, seq: 7 }] },
  { type: 'ack', docId, seq: 9, serverSeq: 99999 },
  { type: 'opResult', index: 4, code: '', message: '' },
  { type: 'opResult', index: 4, code: 'E_CONFLICT', message: 'another op took index 4 ⚖' },
  { type: 'reject', code: 'E_SCOPE', message: 'this device may only read', docId, seq: 17 },
  { type: 'seenRequest' },
  { type: 'fetchSeqs', docId, deviceId: filled(16, 0x03), from: 2, to: 300 },
  { type: 'fetched', docId, deviceId: filled(16, 0x03), from: 2, to: 300, count: 299 },
  { type: 'seen', devices: [{ deviceId: filled(16, 0x02), time: 1_700_000_000_000 }] },
]

describe('wire frames', () => {
  it.each(everyMessage.map((m) => [m.type, m] as const))('round-trips %s', (_type, m) => {
    const frame = encodeFrame([m])
    expect(frame[0]).toBe(MessageType[m.type])
    expect(decodeFrame(frame)).toEqual([m])
  })

  it('carries several messages in one frame, in order', () => {
    expect(decodeFrame(encodeFrame(everyMessage))).toEqual(everyMessage)
    const acks = Array.from({ length: 100 }, (_, i) => ({ type: 'ack' as const, docId, seq: i + 1, serverSeq: 1000 + i }))
    expect(decodeFrame(encodeFrame(acks))).toEqual(acks)
  })

  it('encodes the message type first, then the fields in order', () => {
    expect(encodeFrame([{ type: 'hello', opsFrom: 300 }])).toEqual(Uint8Array.of(1, 0xac, 0x02))
    expect(encodeFrame([{ type: 'push', envelope: Uint8Array.of(9, 8) }])).toEqual(Uint8Array.of(3, 2, 9, 8))
    expect(encodeFrame([{ type: 'opResult', index: 1, code: 'E', message: '' }])).toEqual(Uint8Array.of(25, 1, 1, 0x45, 0))
  })

  it('refuses an empty frame', () => {
    expectCode(() => decodeFrame(new Uint8Array(0)), 'E_BAD_FRAME', 'frame')
  })

  it('refuses an unknown message type', () => {
    for (const t of [0, 10, 19, 30, 127, 128 * 3]) {
      const e = encoding.createEncoder()
      encoding.writeVarUint(e, t)
      const err = expectCode(() => decodeFrame(encoding.toUint8Array(e)), 'E_BAD_FRAME', 'message type')
      expect(err.message).toContain(`message type ${t} is unknown`)
    }
    // An unknown message after a good one fails the whole frame.
    expectCode(() => decodeFrame(Uint8Array.of(...encodeFrame([{ type: 'hello', opsFrom: 0 }]), 99)), 'E_BAD_FRAME', 'message type')
  })

  it.each(everyMessage.map((m) => [m.type, m] as const))('refuses a %s cut at any length, naming the field', (_type, m) => {
    const frame = encodeFrame([m])
    for (let n = 1; n < frame.length; n++) {
      const err = expectCode(() => decodeFrame(frame.subarray(0, n)), 'E_BAD_FRAME')
      expect(err.field, `cut at ${n}`).toBeTruthy()
      expect(err.message).toContain(err.field)
    }
  })

  it('names the fields of a cut frame', () => {
    const field = (m: Message, keep: number) => caught(() => decodeFrame(encodeFrame([m]).subarray(0, keep))).field
    expect(field({ type: 'hello', opsFrom: 5 }, 1)).toBe('opsFrom')
    expect(field({ type: 'subscribe', docId, cursor: 1 }, 5)).toBe('docId')
    expect(field({ type: 'subscribe', docId, cursor: 1 }, 17)).toBe('cursor')
    expect(field({ type: 'push', envelope: filled(10, 1) }, 5)).toBe('envelope')
    expect(field({ type: 'ops', from: 0, ops: [filled(4, 1), filled(4, 1)] }, 9)).toBe('ops[1]')
    expect(field({ type: 'envelopes', docId, items: [{ serverSeq: 1, envelope: filled(4, 1) }] }, 17)).toBe('envelopes count')
    expect(field({ type: 'envelopes', docId, items: [{ serverSeq: 1, envelope: filled(4, 1) }] }, 18)).toBe('serverSeq')
    expect(field({ type: 'envelopes', docId, items: [{ serverSeq: 1, envelope: filled(4, 1) }] }, 21)).toBe('envelopes[0]')
    expect(field({ type: 'reject', code: 'E_X', message: 'm', docId, seq: 1 }, 6)).toBe('message')
  })

  it('refuses strings that are not UTF-8 or longer than 4096 bytes', () => {
    expectCode(() => decodeFrame(Uint8Array.of(MessageType.opResult, 0, 1, 0xff, 0)), 'E_BAD_FRAME', 'code')
    const long = encodeFrame([{ type: 'opResult', index: 0, code: 'E_X', message: 'x'.repeat(4097) }])
    expectCode(() => decodeFrame(long), 'E_BAD_FRAME', 'message')
    const limit = { type: 'opResult' as const, index: 0, code: 'E_X', message: 'x'.repeat(4096) }
    expect(decodeFrame(encodeFrame([limit]))).toEqual([limit])
  })

  it('keeps a leading byte-order mark in a string', () => {
    const m: Message = { type: 'reject', code: '\uFEFFE_X', message: '\uFEFF', docId, seq: 1 }
    expect(decodeFrame(encodeFrame([m]))).toEqual([m])
  })

  it('refuses an overlong varUint instead of reading it as NaN', () => {
    // 0x80 × 150 then 0x00: every 7-bit group is zero, but the multiplier overflows to Infinity.
    const overlong = [...new Uint8Array(150).fill(0x80), 0]
    expectCode(() => decodeFrame(Uint8Array.of(MessageType.hello, ...overlong)), 'E_BAD_FRAME', 'opsFrom')
    expectCode(() => decodeFrame(Uint8Array.of(MessageType.push, ...overlong, 1, 2, 3)), 'E_BAD_FRAME', 'envelope length')
    expectCode(() => decodeFrame(Uint8Array.of(...overlong)), 'E_BAD_FRAME', 'message type')
  })

  it('refuses counts and sizes over their limits before reading them', () => {
    const e = encoding.createEncoder()
    encoding.writeVarUint(e, MessageType.ops)
    encoding.writeVarUint(e, 0)
    encoding.writeVarUint(e, 1_000_001)
    expectCode(() => decodeFrame(encoding.toUint8Array(e)), 'E_BAD_FRAME', 'ops count')
    const big = encoding.createEncoder()
    encoding.writeVarUint(big, MessageType.appendOp)
    encoding.writeVarUint(big, (1 << 20) + 1)
    expectCode(() => decodeFrame(encoding.toUint8Array(big)), 'E_BAD_FRAME', 'op')
  })
})
