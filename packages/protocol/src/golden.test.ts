// Golden vectors: envelopes, membership ops, lockboxes, frames and the auth
// message, frozen as hex in test-fixtures/golden.json, so that an accidental
// change to the wire format fails here.
//
// How the vectors were made: `buildVectors()` below, run once, from the fixed
// inputs in `INPUTS` (Ed25519 seeds 32 × 0x01 and 32 × 0x02, X25519 secrets
// 32 × 0x81 and 32 × 0x82, fixed epoch keys, nonces and ephemeral keys). Ed25519
// signatures are deterministic (RFC 8032), so only the random draws had to be
// fixed: nonces through a stand-in for `randomBytes`, lockbox ephemeral keys by
// building the sealed box by hand. `JSON.stringify(buildVectors(), null, 2)`
// is the file.
//
// If a test here fails, the bytes on the wire changed. When that is intended,
// it is a new protocol version: bump PROTOCOL_VERSION and PROTOCOL.md, and
// add vectors for the new version next to these rather than rewriting them.
import {
  aeadSeal,
  dhPublicKey,
  fromHex,
  hkdfSha256,
  hmacSha256,
  sha256,
  sign,
  toHex,
  utf8,
  verify,
  x25519,
} from '@mindsync/crypto'
import * as encoding from 'lib0/encoding'
import { readFileSync } from 'node:fs'
import { describe, expect, it, vi } from 'vitest'
import { AUTH_CONTEXT, ENVELOPE_CONTEXT, OP_CONTEXT, testDevice } from '../test-fixtures/helpers.js'
import type { TestDevice } from '../test-fixtures/helpers.js'
import {
  ALL_SCOPES,
  EnvelopeKind,
  OpType,
  Scope,
  ZERO_HASH,
  authMessage,
  concatBytes,
  decodeEnvelope,
  decodeFrame,
  decodeOp,
  deriveKey,
  deviceIdOf,
  docIdOf,
  encodeFrame,
  encodeHeader,
  envelopeHash,
  openEnvelope,
  openLockbox,
  openMeta,
  opHash,
  pad,
  paddedLength,
  sealEnvelope,
  sealMeta,
  signOp,
  verifyEnvelope,
  verifyLog,
  verifyOpSignature,
} from './index.js'
import type { EnvelopeHeader, Message, OpFields } from './index.js'

// sealEnvelope and sealMeta draw their nonce from randomBytes: queue fixed ones.
const random = vi.hoisted(() => ({ queue: [] as Uint8Array[] }))
vi.mock('@mindsync/crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('@mindsync/crypto')>()
  return {
    ...real,
    randomBytes(length: number): Uint8Array {
      const next = random.queue.shift()
      if (!next) return real.randomBytes(length)
      if (next.length !== length) throw new Error(`queued ${next.length} random bytes, ${length} wanted`)
      return next.slice()
    },
  }
})

function withRandom<T>(draws: Uint8Array[], fn: () => T): T {
  random.queue.push(...draws)
  try {
    const result = fn()
    if (random.queue.length !== 0) throw new Error(`${random.queue.length} queued random draw(s) left unused`)
    return result
  } finally {
    random.queue.length = 0
  }
}

const fill = (length: number, byte: number) => new Uint8Array(length).fill(byte)

// ---------------------------------------------------------------- inputs

const A = testDevice(1) // Ed25519 seed 32 × 0x01, X25519 secret 32 × 0x81
const B = testDevice(2) // Ed25519 seed 32 × 0x02, X25519 secret 32 × 0x82
const INPUTS = {
  vaultId: fill(16, 0xaa),
  relayId: fill(16, 0xee),
  epochKeys: [fill(32, 0x40), fill(32, 0x41), fill(32, 0x42)],
  /** A stand-in key for "epoch 300", to exercise multi-byte varUints. */
  epoch300Key: fill(32, 0x4f),
  docName: 'journal',
  pairingSecret: fill(16, 0x5e),
  challenge: fill(40, 0xc0),
  time: 1_700_000_000_000,
}

// ---------------------------------------------------------------- JSON form

/** Fields holding bytes; the JSON holds them as lowercase hex. */
const BYTE_KEYS = new Set(['vaultId', 'docId', 'deviceId', 'relayId', 'prevHash', 'author', 'signPub', 'dhPub', 'target', 'meta', 'box', 'envelope', 'op', 'ops'])

function toJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return toHex(value)
  if (Array.isArray(value)) return value.map(toJson)
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toJson(v)]))
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]))
  return value
}

function fromJson<T>(value: unknown, key = ''): T {
  if (typeof value === 'string' && BYTE_KEYS.has(key)) return fromHex(value) as T
  if (Array.isArray(value)) return value.map((v) => fromJson(v, key)) as T
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromJson(v, k)])) as T
  return value as T
}

// ---------------------------------------------------------------- builders

/** lockbox contents := varUint(count) • (varUint(epoch) • key(32))* • varUint8Array(proof) */
function lockboxContents(keys: Uint8Array[], proof: Uint8Array): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, keys.length)
  keys.forEach((k, epoch) => {
    encoding.writeVarUint(e, epoch)
    encoding.writeUint8Array(e, k)
  })
  encoding.writeVarUint8Array(e, proof)
  return encoding.toUint8Array(e)
}

/**
 * The sealed box of @mindsync/crypto, by hand, with a fixed ephemeral key:
 *   E = X25519(e, 9); shared = X25519(e, R)
 *   k = HKDF-SHA256(shared, salt = E • R, info = "mindsync/v1/box/lockbox", 32)
 *   box = E(32) • nonce(24) • XChaCha20-Poly1305(k, nonce, contents, aad = vaultId • varUint(epoch))
 */
function lockboxByHand(recipient: TestDevice, keys: Uint8Array[], epoch: number, proof: Uint8Array, ephemeralByte: number, nonceByte: number): Uint8Array {
  const e = fill(32, ephemeralByte)
  const E = dhPublicKey(e)
  const k = hkdfSha256(x25519(e, recipient.dhPub), concatBytes(E, recipient.dhPub), 'mindsync/v1/box/lockbox', 32)
  const aad = encoding.encode((enc) => {
    encoding.writeUint8Array(enc, INPUTS.vaultId)
    encoding.writeVarUint(enc, epoch)
  })
  const nonce = fill(24, nonceByte)
  return concatBytes(E, nonce, aeadSeal(k, nonce, lockboxContents(keys, proof), aad))
}

const pairingProof = hmacSha256(INPUTS.pairingSecret, concatBytes(utf8.encode('mindsync/v1/pair\0'), INPUTS.vaultId))
const envelopeKey0 = deriveKey(INPUTS.epochKeys[0]!, 'envelope')
const metaKey0 = deriveKey(INPUTS.epochKeys[0]!, 'meta')
const docIdKey = deriveKey(INPUTS.epochKeys[0]!, 'doc-id')
const docId = docIdOf(docIdKey, INPUTS.docName)

interface EnvelopeSpec {
  name: string
  header: EnvelopeHeader
  author: TestDevice
  key: Uint8Array
  nonceByte: number
  plaintext: Uint8Array
}

function envelopeSpecs(): EnvelopeSpec[] {
  const base = { vaultId: INPUTS.vaultId, docId, epoch: 0, deviceId: A.deviceId, prevHash: ZERO_HASH }
  const first: EnvelopeSpec = { name: 'update-seq-1', header: { ...base, kind: EnvelopeKind.update, seq: 1 }, author: A, key: envelopeKey0, nonceByte: 0x24, plaintext: utf8.encode('{"minutes":20}') }
  const firstHash = envelopeHash(decodeEnvelope(sealByHand(first)))
  return [
    first,
    { name: 'update-seq-2', header: { ...base, kind: EnvelopeKind.update, seq: 2, prevHash: firstHash }, author: A, key: envelopeKey0, nonceByte: 0x25, plaintext: utf8.encode('second') },
    { name: 'awareness', header: { ...base, kind: EnvelopeKind.awareness, seq: 0 }, author: A, key: envelopeKey0, nonceByte: 0x26, plaintext: utf8.encode('{"cursor":3}') },
    {
      name: 'checkpoint-epoch-300-seq-200-padme',
      header: { ...base, kind: EnvelopeKind.checkpoint, epoch: 300, deviceId: B.deviceId, seq: 200, prevHash: fill(32, 0x77) },
      author: B,
      key: deriveKey(INPUTS.epoch300Key, 'envelope'),
      nonceByte: 0x27,
      plaintext: fill(1100, 0x5a),
    },
  ]
}

/** header • varUint(24 + |c|) • nonce • c • Ed25519(seed, "mindsync/v1/envelope\0" • everything before), c = AEAD(key, nonce, pad(body), header) */
function sealByHand(s: EnvelopeSpec): Uint8Array {
  const header = encodeHeader(s.header)
  const nonce = fill(24, s.nonceByte)
  const c = aeadSeal(s.key, nonce, pad(s.plaintext), header)
  const signed = encoding.encode((e) => {
    encoding.writeUint8Array(e, header)
    encoding.writeVarUint8Array(e, concatBytes(nonce, c))
  })
  return concatBytes(signed, sign(s.author.seed, concatBytes(ENVELOPE_CONTEXT, signed)))
}

interface OpSpec {
  name: string
  fields: OpFields
  author: TestDevice
  metaValue?: unknown
}

function opSpecs(): OpSpec[] {
  const [k0, k1, k2] = INPUTS.epochKeys as [Uint8Array, Uint8Array, Uint8Array]
  const none = new Uint8Array(0)
  const meta = (name: string, nonceByte: number) => withRandom([fill(24, nonceByte)], () => sealMeta(metaKey0, { name }))
  const common = { vaultId: INPUTS.vaultId, author: A.deviceId, target: none, meta: none, signPub: none, dhPub: none, scopes: 0 }
  const specs: OpSpec[] = []
  const push = (name: string, fields: Omit<OpFields, 'index' | 'prevHash' | 'time'>, metaValue?: unknown) => {
    const prev = specs[specs.length - 1]
    const index = specs.length
    const prevHash = prev ? opHash(signOp(prev.fields, prev.author.signer)) : ZERO_HASH
    specs.push({ name, author: A, fields: { ...fields, index, prevHash, time: INPUTS.time + 60_000 * index }, metaValue })
  }
  push(
    'genesis',
    { ...common, type: OpType.genesis, epoch: 0, signPub: A.signPub, dhPub: A.dhPub, scopes: ALL_SCOPES, lockboxes: [{ deviceId: A.deviceId, box: lockboxByHand(A, [k0], 0, none, 0xe0, 0x30) }], meta: meta('Phone', 0x31) },
    { name: 'Phone' },
  )
  push(
    'add-device',
    {
      ...common,
      type: OpType.addDevice,
      epoch: 0,
      signPub: B.signPub,
      dhPub: B.dhPub,
      scopes: Scope.read | Scope.write,
      lockboxes: [{ deviceId: B.deviceId, box: lockboxByHand(B, [k0], 0, pairingProof, 0xe1, 0x32) }],
      meta: meta('Laptop', 0x33),
    },
    { name: 'Laptop' },
  )
  push('rotate', {
    ...common,
    type: OpType.rotate,
    epoch: 1,
    lockboxes: [
      { deviceId: A.deviceId, box: lockboxByHand(A, [k0, k1], 1, none, 0xe2, 0x34) },
      { deviceId: B.deviceId, box: lockboxByHand(B, [k0, k1], 1, none, 0xe3, 0x35) },
    ],
  })
  push('remove-device', { ...common, type: OpType.removeDevice, epoch: 2, target: B.deviceId, lockboxes: [{ deviceId: A.deviceId, box: lockboxByHand(A, [k0, k1, k2], 2, none, 0xe4, 0x36) }] })
  return specs
}

const FRAMES: { name: string; messages: Message[] }[] = [
  { name: 'hello', messages: [{ type: 'hello', opsFrom: 4 }] },
  { name: 'subscribe', messages: [{ type: 'subscribe', docId, cursor: 0 }] },
  { name: 'push', messages: [{ type: 'push', envelope: Uint8Array.of(0xe0, 0xe1, 0xe2) }] },
  { name: 'appendOp', messages: [{ type: 'appendOp', op: Uint8Array.of(0xa0, 0xa1) }] },
  { name: 'awareness', messages: [{ type: 'awareness', envelope: Uint8Array.of(0xe5) }] },
  { name: 'fetch', messages: [{ type: 'fetch', docId, from: 1, to: 128 }] },
  { name: 'welcome', messages: [{ type: 'welcome', relayId: INPUTS.relayId, vaultId: INPUTS.vaultId, deviceId: A.deviceId, serverTime: INPUTS.time + 123 }] },
  { name: 'ops', messages: [{ type: 'ops', from: 0, ops: [Uint8Array.of(1), Uint8Array.of(2, 3)] }] },
  { name: 'envelopes', messages: [{ type: 'envelopes', docId, items: [{ serverSeq: 1, envelope: Uint8Array.of(0xe1) }, { serverSeq: 300, envelope: Uint8Array.of(0xe2, 0xe2) }] }] },
  { name: 'caughtUp', messages: [{ type: 'caughtUp', docId, head: 300 }] },
  { name: 'envelopes-early', messages: [{ type: 'envelopes', docId, items: [{ serverSeq: 0, envelope: Uint8Array.of(0xe4) }] }] },
  { name: 'stored', messages: [{ type: 'stored', docId, head: 301, heads: [{ deviceId: A.deviceId, seq: 3 }] }] },
  { name: 'ack', messages: [{ type: 'ack', docId, seq: 2, serverSeq: 301 }] },
  { name: 'opResult-accepted', messages: [{ type: 'opResult', index: 3, code: '', message: '' }] },
  { name: 'opResult-refused', messages: [{ type: 'opResult', index: 3, code: 'E_CONFLICT', message: 'lost a race' }] },
  { name: 'reject', messages: [{ type: 'reject', code: 'E_SCOPE', message: 'read only', docId, seq: 5 }] },
  {
    name: 'batch',
    messages: [
      { type: 'ack', docId, seq: 3, serverSeq: 302 },
      { type: 'envelopes', docId, items: [{ serverSeq: 303, envelope: Uint8Array.of(0xe3) }] },
      { type: 'caughtUp', docId, head: 303 },
    ],
  },
]

/** Every vector, from INPUTS; its JSON form is test-fixtures/golden.json. */
function buildVectors() {
  const device = (d: TestDevice) => ({ ed25519Seed: d.seed, x25519Secret: d.dhSecret, signPub: d.signPub, dhPub: d.dhPub, deviceId: d.deviceId })
  const auth = authMessage(INPUTS.relayId, INPUTS.vaultId, INPUTS.challenge)
  return toJson({
    about: 'mindsync protocol v1 golden vectors; see packages/protocol/src/golden.test.ts for how they were made',
    inputs: { ...INPUTS, deviceA: device(A), deviceB: device(B) },
    derived: {
      envelopeKey0,
      metaKey0,
      docIdKey0: docIdKey,
      docId,
      pairingProof,
      authMessage: auth,
      authSignatureA: sign(A.seed, auth),
    },
    padding: [0, 62, 63, 64, 511, 1023, 1024, 1100, 2047, 3000, 65_536].map((n) => [n, paddedLength(n + 1)]),
    envelopes: envelopeSpecs().map((s) => {
      const bytes = withRandom([fill(24, s.nonceByte)], () => sealEnvelope({ ...s.header, key: s.key, signer: s.author.signer, plaintext: s.plaintext }).bytes)
      return { name: s.name, header: s.header, nonce: fill(24, s.nonceByte), plaintext: s.plaintext, headerBytes: encodeHeader(s.header), bytes, hash: envelopeHash(decodeEnvelope(bytes)) }
    }),
    ops: opSpecs().map((s) => {
      const op = signOp(s.fields, s.author.signer)
      return { name: s.name, fields: s.fields, ...(s.metaValue ? { metaValue: s.metaValue } : {}), bytes: op.bytes, hash: opHash(op) }
    }),
    frames: FRAMES.map((f) => ({ name: f.name, messages: f.messages, bytes: encodeFrame(f.messages) })),
  })
}

// ---------------------------------------------------------------- the frozen file

interface Golden {
  inputs: { deviceA: Record<string, string>; deviceB: Record<string, string> }
  derived: Record<string, string>
  padding: [number, number][]
  envelopes: { name: string; header: Record<string, unknown>; nonce: string; plaintext: string; headerBytes: string; bytes: string; hash: string }[]
  ops: { name: string; fields: Record<string, unknown>; metaValue?: unknown; bytes: string; hash: string }[]
  frames: { name: string; messages: unknown[]; bytes: string }[]
}

const golden = JSON.parse(readFileSync(new URL('../test-fixtures/golden.json', import.meta.url), 'utf8')) as Golden
const built = buildVectors() as unknown as Golden

describe('golden vectors', () => {
  describe('ids, keys and hashes', () => {
    it('re-derives the devices, keys, doc id and auth signature', () => {
      expect(built.inputs).toEqual(golden.inputs)
      expect(built.derived).toEqual(golden.derived)
    })

    it('device id = SHA-256(varUint(21) • "mindsync/v1/device-id" • varUint(32) • signPub)[0..16]', () => {
      const ctx = utf8.encode('mindsync/v1/device-id')
      const byHand = sha256(concatBytes(Uint8Array.of(ctx.length), ctx, Uint8Array.of(32), A.signPub)).subarray(0, 16)
      expect(toHex(byHand)).toBe(golden.inputs.deviceA.deviceId)
      expect(toHex(deviceIdOf(fromHex(golden.inputs.deviceB.signPub as string)))).toBe(golden.inputs.deviceB.deviceId)
    })

    it('keys come from HKDF-SHA256(epoch key, no salt, "mindsync/v1/key/<purpose>")', () => {
      expect(toHex(hkdfSha256(INPUTS.epochKeys[0]!, new Uint8Array(32), 'mindsync/v1/key/envelope', 32))).toBe(golden.derived.envelopeKey0)
      expect(toHex(hkdfSha256(INPUTS.epochKeys[0]!, undefined, 'mindsync/v1/key/meta', 32))).toBe(golden.derived.metaKey0)
    })

    it('doc id = HMAC-SHA256(doc-id key, "mindsync/v1/doc-id/" • name)[0..16]', () => {
      const byHand = hmacSha256(fromHex(golden.derived.docIdKey0!), utf8.encode('mindsync/v1/doc-id/journal')).subarray(0, 16)
      expect(toHex(byHand)).toBe(golden.derived.docId)
    })

    it('auth message = "mindsync/v1/auth\\0" • relayId • vaultId • challenge, signed by the device', () => {
      const msg = fromHex(golden.derived.authMessage!)
      expect(msg).toEqual(concatBytes(AUTH_CONTEXT, INPUTS.relayId, INPUTS.vaultId, INPUTS.challenge))
      expect(verify(A.signPub, msg, fromHex(golden.derived.authSignatureA!))).toBe(true)
    })

    it('padded lengths', () => {
      expect(built.padding).toEqual(golden.padding)
    })
  })

  describe('envelopes', () => {
    it('has the vectors it expects', () => {
      expect(golden.envelopes.map((v) => v.name)).toEqual(envelopeSpecs().map((s) => s.name))
    })

    it.each(envelopeSpecs().map((s) => [s.name, s] as const))('%s decodes, verifies and opens to the frozen fields', (name, spec) => {
      const v = golden.envelopes.find((e) => e.name === name)!
      const env = decodeEnvelope(fromHex(v.bytes))
      const header = fromJson<EnvelopeHeader>(v.header)
      expect(env.header).toEqual(header)
      expect(env.header).toEqual(spec.header)
      expect(toHex(env.headerBytes)).toBe(v.headerBytes)
      expect(toHex(env.nonce)).toBe(v.nonce)
      expect(verifyEnvelope(env, spec.author.signPub)).toBe(true)
      expect(toHex(openEnvelope(env, spec.key))).toBe(v.plaintext)
      expect(env.ciphertext.length).toBe(paddedLength(v.plaintext.length / 2 + 1) + 16)
      expect(toHex(envelopeHash(env))).toBe(v.hash)
      // envelope hash = SHA-256(varUint(26) • "mindsync/v1/envelope-hash" • varUint(|signed|) • signed)
      const ctx = utf8.encode('mindsync/v1/envelope-hash')
      const lenPrefix = encoding.encode((e) => encoding.writeVarUint(e, env.signed.length))
      expect(toHex(sha256(concatBytes(Uint8Array.of(ctx.length), ctx, lenPrefix, env.signed)))).toBe(v.hash)
    })

    it.each(envelopeSpecs().map((s) => [s.name, s] as const))('%s is re-encoded byte for byte, by sealEnvelope and by hand', (name, spec) => {
      const v = golden.envelopes.find((e) => e.name === name)!
      expect(toHex(encodeHeader(spec.header))).toBe(v.headerBytes)
      expect(toHex(sealByHand(spec))).toBe(v.bytes)
      expect(built.envelopes.find((e) => e.name === name)).toEqual(v)
    })

    it('chains: seq 2 names the hash of seq 1', () => {
      expect((golden.envelopes[1]!.header as { prevHash: string }).prevHash).toBe(golden.envelopes[0]!.hash)
    })
  })

  describe('membership ops', () => {
    it('has the vectors it expects', () => {
      expect(golden.ops.map((v) => v.name)).toEqual(['genesis', 'add-device', 'rotate', 'remove-device'])
    })

    it('form a valid log', () => {
      const state = verifyLog(golden.ops.map((v) => decodeOp(fromHex(v.bytes))))
      expect(state.index).toBe(3)
      expect(state.epoch).toBe(2)
      expect(toHex(state.hash)).toBe(golden.ops[3]!.hash)
    })

    it.each(opSpecs().map((s) => [s.name, s] as const))('%s decodes to the frozen fields and verifies', (name, spec) => {
      const v = golden.ops.find((o) => o.name === name)!
      const op = decodeOp(fromHex(v.bytes))
      const { signature, signed, bytes, ...fields } = op
      expect(fields).toEqual(fromJson<OpFields>(v.fields))
      expect(fields).toEqual(spec.fields)
      expect(verifyOpSignature(op, A.signPub)).toBe(true)
      expect(verify(A.signPub, concatBytes(OP_CONTEXT, signed), signature)).toBe(true)
      expect(toHex(opHash(op))).toBe(v.hash)
      if (v.metaValue !== undefined) expect(openMeta(metaKey0, op.meta)).toEqual(v.metaValue)
    })

    it.each(opSpecs().map((s) => [s.name, s] as const))('%s is re-encoded byte for byte by signOp', (name, spec) => {
      const v = golden.ops.find((o) => o.name === name)!
      expect(toHex(signOp(fromJson<OpFields>(v.fields), A.signer).bytes)).toBe(v.bytes)
      expect(built.ops.find((o) => o.name === name)).toEqual(v)
      expect(spec.author).toBe(A)
    })

    it('lockboxes open to the frozen epoch keys and pairing proof', () => {
      const opened = (opIndex: number, d: TestDevice) => {
        const op = decodeOp(fromHex(golden.ops[opIndex]!.bytes))
        const box = op.lockboxes.find((l) => toHex(l.deviceId) === toHex(d.deviceId))!.box
        return openLockbox(d.dhSecret, box, INPUTS.vaultId, op.epoch)
      }
      expect(opened(0, A)).toEqual({ keys: new Map([[0, INPUTS.epochKeys[0]]]), proof: new Uint8Array(0) })
      expect(opened(1, B)).toEqual({ keys: new Map([[0, INPUTS.epochKeys[0]]]), proof: fromHex(golden.derived.pairingProof!) })
      expect(opened(2, B).keys).toEqual(new Map([[0, INPUTS.epochKeys[0]], [1, INPUTS.epochKeys[1]]]))
      expect(opened(3, A).keys).toEqual(new Map(INPUTS.epochKeys.map((k, i) => [i, k])))
    })
  })

  describe('frames', () => {
    it('has the vectors it expects', () => {
      expect(golden.frames.map((f) => f.name)).toEqual(FRAMES.map((f) => f.name))
    })

    it.each(FRAMES.map((f) => [f.name, f] as const))('%s decodes to the frozen messages and re-encodes byte for byte', (name, f) => {
      const v = golden.frames.find((g) => g.name === name)!
      const messages = fromJson<Message[]>(v.messages)
      expect(decodeFrame(fromHex(v.bytes))).toEqual(messages)
      expect(messages).toEqual(f.messages)
      expect(toHex(encodeFrame(messages))).toBe(v.bytes)
    })
  })

  it('the whole file is what buildVectors() makes today', () => {
    expect(built).toEqual(golden)
  })
})
