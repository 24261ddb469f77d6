import * as encoding from 'lib0/encoding'
import { MindsyncError } from './errors.js'
import { DEVICE_ID_BYTES, DOC_ID_BYTES, RELAY_ID_BYTES, VAULT_ID_BYTES } from './ids.js'
import { MAX_BODY_BYTES } from './envelope.js'
import { Reader } from './reader.js'
import { allocScratch, encodeOnto } from './scratch.js'

/** Message type numbers; the grammar is in PROTOCOL.md. */
export const MessageType = {
  hello: 1,
  subscribe: 2,
  push: 3,
  appendOp: 4,
  awareness: 5,
  fetch: 6,
  seenRequest: 7,
  fetchSeqs: 8,
  removeOp: 9,
  welcome: 20,
  ops: 21,
  envelopes: 22,
  caughtUp: 23,
  ack: 24,
  opResult: 25,
  reject: 26,
  stored: 27,
  seen: 28,
  fetched: 29,
} as const

export interface StoredEnvelope {
  serverSeq: number
  envelope: Uint8Array
}

export type ClientMessage =
  | { type: 'hello'; opsFrom: number }
  | { type: 'subscribe'; docId: Uint8Array; cursor: number }
  | { type: 'push'; envelope: Uint8Array }
  | { type: 'appendOp'; op: Uint8Array }
  /** A removal op with the removed device's chain head per doc as the remover saw them: the relay appends it only if they are still its heads. */
  | { type: 'removeOp'; op: Uint8Array; heads: { docId: Uint8Array; seq: number }[] }
  | { type: 'awareness'; envelope: Uint8Array }
  | { type: 'fetch'; docId: Uint8Array; from: number; to: number }
  | { type: 'seenRequest' }
  | { type: 'fetchSeqs'; docId: Uint8Array; deviceId: Uint8Array; from: number; to: number }

export type RelayMessage =
  | { type: 'welcome'; relayId: Uint8Array; vaultId: Uint8Array; deviceId: Uint8Array; serverTime: number }
  | { type: 'ops'; from: number; ops: Uint8Array[] }
  | { type: 'envelopes'; docId: Uint8Array; items: StoredEnvelope[] }
  | { type: 'caughtUp'; docId: Uint8Array; head: number }
  /**
   * Every envelope of the doc up to serverSeq `head` is durable, and this
   * connection was sent each one; `heads`: per author, the highest seq of the
   * envelopes sent to it early that are now stored (see PROTOCOL.md, Early fan-out).
   */
  | { type: 'stored'; docId: Uint8Array; head: number; heads: { deviceId: Uint8Array; seq: number }[] }
  | { type: 'ack'; docId: Uint8Array; seq: number; serverSeq: number }
  | { type: 'opResult'; index: number; code: string; message: string }
  | { type: 'reject'; code: string; message: string; docId: Uint8Array; seq: number }
  | { type: 'awareness'; envelope: Uint8Array }
  | { type: 'seen'; devices: { deviceId: Uint8Array; time: number }[] }
  | { type: 'fetched'; docId: Uint8Array; deviceId: Uint8Array; from: number; to: number; count: number }

export type Message = ClientMessage | RelayMessage

/** Appends one message to an encoder; several messages in one frame are simply concatenated. */
export function writeMessage(e: encoding.Encoder, m: Message): void {
  encoding.writeVarUint(e, MessageType[m.type])
  switch (m.type) {
    case 'hello':
      encoding.writeVarUint(e, m.opsFrom)
      break
    case 'subscribe':
      encoding.writeUint8Array(e, m.docId)
      encoding.writeVarUint(e, m.cursor)
      break
    case 'push':
    case 'awareness':
      encoding.writeVarUint8Array(e, m.envelope)
      break
    case 'appendOp':
      encoding.writeVarUint8Array(e, m.op)
      break
    case 'removeOp':
      encoding.writeVarUint8Array(e, m.op)
      encoding.writeVarUint(e, m.heads.length)
      for (const h of m.heads) {
        encoding.writeUint8Array(e, h.docId)
        encoding.writeVarUint(e, h.seq)
      }
      break
    case 'fetch':
      encoding.writeUint8Array(e, m.docId)
      encoding.writeVarUint(e, m.from)
      encoding.writeVarUint(e, m.to)
      break
    case 'seenRequest':
      break
    case 'fetchSeqs':
    case 'fetched':
      encoding.writeUint8Array(e, m.docId)
      encoding.writeUint8Array(e, m.deviceId)
      encoding.writeVarUint(e, m.from)
      encoding.writeVarUint(e, m.to)
      if (m.type === 'fetched') encoding.writeVarUint(e, m.count)
      break
    case 'seen':
      encoding.writeVarUint(e, m.devices.length)
      for (const d of m.devices) {
        encoding.writeUint8Array(e, d.deviceId)
        encoding.writeVarUint(e, d.time)
      }
      break
    case 'welcome':
      encoding.writeUint8Array(e, m.relayId)
      encoding.writeUint8Array(e, m.vaultId)
      encoding.writeUint8Array(e, m.deviceId)
      encoding.writeVarUint(e, m.serverTime)
      break
    case 'ops':
      encoding.writeVarUint(e, m.from)
      encoding.writeVarUint(e, m.ops.length)
      for (const op of m.ops) encoding.writeVarUint8Array(e, op)
      break
    case 'envelopes':
      encoding.writeUint8Array(e, m.docId)
      encoding.writeVarUint(e, m.items.length)
      for (const it of m.items) {
        encoding.writeVarUint(e, it.serverSeq)
        encoding.writeVarUint8Array(e, it.envelope)
      }
      break
    case 'caughtUp':
      encoding.writeUint8Array(e, m.docId)
      encoding.writeVarUint(e, m.head)
      break
    case 'stored':
      encoding.writeUint8Array(e, m.docId)
      encoding.writeVarUint(e, m.head)
      encoding.writeVarUint(e, m.heads.length)
      for (const h of m.heads) {
        encoding.writeUint8Array(e, h.deviceId)
        encoding.writeVarUint(e, h.seq)
      }
      break
    case 'ack':
      encoding.writeUint8Array(e, m.docId)
      encoding.writeVarUint(e, m.seq)
      encoding.writeVarUint(e, m.serverSeq)
      break
    case 'opResult':
      encoding.writeVarUint(e, m.index)
      encoding.writeVarString(e, m.code)
      encoding.writeVarString(e, m.message)
      break
    case 'reject':
      encoding.writeVarString(e, m.code)
      encoding.writeVarString(e, m.message)
      encoding.writeUint8Array(e, m.docId)
      encoding.writeVarUint(e, m.seq)
      break
  }
}

/** Reused by encodeFrame, which is synchronous and never runs inside itself (writeMessage only writes). */
const frameEncoder = encoding.createEncoder()

/** Encodes messages into one frame. */
export function encodeFrame(messages: readonly Message[]): Uint8Array {
  // One buffer big enough for the whole frame (the relay encodes a frame per
  // subscriber for every envelope it fans out). Unzeroed is fine: the frame
  // is cut to what was encoded.
  return encodeOnto(frameEncoder, allocScratch(frameSizeHint(messages)), (e) => {
    for (const m of messages) writeMessage(e, m)
  })
}

/**
 * At least the encoded size of most messages (byte payloads, plus room for
 * ids, numbers and short texts). Sizes a frame's buffer, and lets the relay
 * keep its frames under a limit.
 */
export function messageSizeHint(m: Message): number {
  let size = 80
  if (m.type === 'envelopes') for (const it of m.items) size += it.envelope.length + 16
  else if (m.type === 'push' || m.type === 'awareness') size += m.envelope.length
  else if (m.type === 'ops') for (const op of m.ops) size += op.length + 8
  else if (m.type === 'appendOp' || m.type === 'removeOp') size += m.op.length + ('heads' in m ? m.heads.length * 64 : 0)
  else if (m.type === 'opResult' || m.type === 'reject') size += (m.code.length + m.message.length) * 3
  return size
}

function frameSizeHint(messages: readonly Message[]): number {
  let size = 0
  for (const m of messages) size += messageSizeHint(m)
  return size
}

const MAX_ITEMS = 1_000_000
const MAX_REMOVAL_HEADS = 10_000
const MAX_TEXT = 4096

function readMessage(r: Reader): Message {
  const t = r.varUint('message type')
  switch (t) {
    case MessageType.hello:
      return { type: 'hello', opsFrom: r.varUint('opsFrom') }
    case MessageType.subscribe:
      return { type: 'subscribe', docId: r.fixed('docId', DOC_ID_BYTES), cursor: r.varUint('cursor') }
    case MessageType.push:
      return { type: 'push', envelope: r.bytes('envelope', MAX_BODY_BYTES) }
    case MessageType.appendOp:
      return { type: 'appendOp', op: r.bytes('op', 1 << 20) }
    case MessageType.removeOp: {
      const op = r.bytes('op', 1 << 20)
      const count = r.varUint('heads count', MAX_REMOVAL_HEADS)
      const heads: { docId: Uint8Array; seq: number }[] = []
      for (let i = 0; i < count; i++) heads.push({ docId: r.fixed(`heads[${i}].docId`, DOC_ID_BYTES), seq: r.varUint(`heads[${i}].seq`) })
      return { type: 'removeOp', op, heads }
    }
    case MessageType.awareness:
      return { type: 'awareness', envelope: r.bytes('envelope', MAX_BODY_BYTES) }
    case MessageType.fetch:
      return { type: 'fetch', docId: r.fixed('docId', DOC_ID_BYTES), from: r.varUint('from'), to: r.varUint('to') }
    case MessageType.seenRequest:
      return { type: 'seenRequest' }
    case MessageType.fetchSeqs:
      return { type: 'fetchSeqs', docId: r.fixed('docId', DOC_ID_BYTES), deviceId: r.fixed('deviceId', DEVICE_ID_BYTES), from: r.varUint('from'), to: r.varUint('to') }
    case MessageType.fetched:
      return {
        type: 'fetched',
        docId: r.fixed('docId', DOC_ID_BYTES),
        deviceId: r.fixed('deviceId', DEVICE_ID_BYTES),
        from: r.varUint('from'),
        to: r.varUint('to'),
        count: r.varUint('count'),
      }
    case MessageType.seen: {
      const count = r.varUint('devices count', MAX_ITEMS)
      const devices: { deviceId: Uint8Array; time: number }[] = []
      for (let i = 0; i < count; i++) devices.push({ deviceId: r.fixed(`devices[${i}].deviceId`, DEVICE_ID_BYTES), time: r.varUint(`devices[${i}].time`) })
      return { type: 'seen', devices }
    }
    case MessageType.welcome:
      return {
        type: 'welcome',
        relayId: r.fixed('relayId', RELAY_ID_BYTES),
        vaultId: r.fixed('vaultId', VAULT_ID_BYTES),
        deviceId: r.fixed('deviceId', DEVICE_ID_BYTES),
        serverTime: r.varUint('serverTime'),
      }
    case MessageType.ops: {
      const from = r.varUint('from')
      const count = r.varUint('ops count', MAX_ITEMS)
      const ops: Uint8Array[] = []
      for (let i = 0; i < count; i++) ops.push(r.bytes(`ops[${i}]`, 1 << 20))
      return { type: 'ops', from, ops }
    }
    case MessageType.envelopes: {
      const docId = r.fixed('docId', DOC_ID_BYTES)
      const count = r.varUint('envelopes count', MAX_ITEMS)
      const items: StoredEnvelope[] = []
      for (let i = 0; i < count; i++) items.push({ serverSeq: r.varUint('serverSeq'), envelope: r.bytes(`envelopes[${i}]`, MAX_BODY_BYTES) })
      return { type: 'envelopes', docId, items }
    }
    case MessageType.caughtUp:
      return { type: 'caughtUp', docId: r.fixed('docId', DOC_ID_BYTES), head: r.varUint('head') }
    case MessageType.stored: {
      const docId = r.fixed('docId', DOC_ID_BYTES)
      const head = r.varUint('head')
      const count = r.varUint('heads count', MAX_ITEMS)
      const heads: { deviceId: Uint8Array; seq: number }[] = []
      for (let i = 0; i < count; i++) heads.push({ deviceId: r.fixed(`heads[${i}].deviceId`, DEVICE_ID_BYTES), seq: r.varUint(`heads[${i}].seq`) })
      return { type: 'stored', docId, head, heads }
    }
    case MessageType.ack:
      return { type: 'ack', docId: r.fixed('docId', DOC_ID_BYTES), seq: r.varUint('seq'), serverSeq: r.varUint('serverSeq') }
    case MessageType.opResult:
      return { type: 'opResult', index: r.varUint('index'), code: r.string('code', MAX_TEXT), message: r.string('message', MAX_TEXT) }
    case MessageType.reject:
      return {
        type: 'reject',
        code: r.string('code', MAX_TEXT),
        message: r.string('message', MAX_TEXT),
        docId: r.fixed('docId', DOC_ID_BYTES),
        seq: r.varUint('seq'),
      }
    default:
      throw new MindsyncError('E_BAD_FRAME', `frame: message type ${t} is unknown`, 'message type')
  }
}

/** Decodes every message in a frame; throws E_BAD_FRAME naming the field at the first problem. */
export function decodeFrame(bytes: Uint8Array): Message[] {
  if (bytes.length === 0) throw new MindsyncError('E_BAD_FRAME', 'frame: empty', 'frame')
  const r = new Reader(bytes, 'frame')
  const out: Message[] = []
  while (r.remaining > 0) out.push(readMessage(r))
  return out
}
