import { TAG_BYTES, aeadOpen, aeadSeal, allocBytes, createSlab, hashParts, randomBytes, utf8, varUintLength, verify, writeVarUint } from '@mindsync/crypto'
import { compareBytes } from './bytes.js'
import type { Signer } from '@mindsync/crypto'
import * as encoding from 'lib0/encoding'
import { MindsyncError } from './errors.js'
import { DEVICE_ID_BYTES, DOC_ID_BYTES, HASH_BYTES, VAULT_ID_BYTES, assertIdSize } from './ids.js'
import { pad, unpad } from './padding.js'
import { Reader } from './reader.js'
import { encodeOnto } from './scratch.js'

export const PROTOCOL_VERSION = 1
export const NONCE_BYTES = 24
export const SIGNATURE_BYTES = 64
/** Hard ceiling for a sealed body when decoding; relays set lower limits of their own. */
export const MAX_BODY_BYTES = 256 * 1024 * 1024

/** What an envelope carries. Awareness envelopes are never stored and carry seq 0. */
export const EnvelopeKind = { update: 1, snapshot: 2, checkpoint: 3, awareness: 4 } as const
export type EnvelopeKind = (typeof EnvelopeKind)[keyof typeof EnvelopeKind]
const KINDS = new Set<number>(Object.values(EnvelopeKind))

/** The clear header: authenticated (AEAD associated data and signature), readable by the relay. */
export interface EnvelopeHeader {
  kind: EnvelopeKind
  vaultId: Uint8Array
  docId: Uint8Array
  epoch: number
  deviceId: Uint8Array
  /** Per device and doc, from 1, no gaps; 0 for awareness. */
  seq: number
  /** Hash of the same device's previous envelope for this doc; zeros for seq 1. */
  prevHash: Uint8Array
  /**
   * Snapshots only (required there, absent elsewhere): per author, the last
   * envelope whose change the snapshot holds, with every earlier one. In the
   * clear, so the relay can prune what a snapshot covers; signed with the rest.
   */
  covers?: CoveredHead[]
}

/** An author's envelope a snapshot covers, with every earlier one of that author. */
export interface CoveredHead {
  deviceId: Uint8Array
  seq: number
  /** envelopeHash of that envelope: a device starting from the snapshot continues the chain from it. */
  hash: Uint8Array
}

/** More authors than any vault has had devices; bounds a snapshot header. */
export const MAX_COVERED_HEADS = 4096

export interface Envelope {
  header: EnvelopeHeader
  nonce: Uint8Array
  ciphertext: Uint8Array
  signature: Uint8Array
  /** The canonical header bytes (the AEAD's associated data). */
  headerBytes: Uint8Array
  /** Everything the signature covers: header and sealed body. */
  signed: Uint8Array
  /**
   * Receiver tags after the signature (tags.ts): `n × (to(4) • tag(16))`,
   * empty when there are none. Not signed, not hashed. Kept as bytes, since
   * a receiver looks for its own tag only (envelopeTags lists them all).
   */
  tagBytes: Uint8Array
  /** The whole encoded envelope, as stored and sent. */
  bytes: Uint8Array
}

/** One receiver's MAC over the envelope's hash (tags.ts): `to` is the first bytes of its device id. */
export interface ReceiverTag {
  to: Uint8Array
  tag: Uint8Array
}

export const TAG_TO_BYTES = 4
export const RECEIVER_TAG_BYTES = 16
/** One entry of the trailer: `to` then `tag`. */
export const TAG_ENTRY_BYTES = TAG_TO_BYTES + RECEIVER_TAG_BYTES
/** More receivers than any vault has devices; bounds the trailer. */
export const MAX_RECEIVER_TAGS = 4096

const SIGN_CONTEXT = utf8.encode('mindsync/v1/envelope\0')

/**
 * header := u8(version) • u8(kind) • vault(16) • doc(16) • varUint(epoch) • device(16) • varUint(seq) • prevHash(32)
 *           [snapshot: varUint(n) • n × (device(16) • varUint(seq ≥ 1) • hash(32)), strictly ascending by device]
 */
export function encodeHeader(h: EnvelopeHeader): Uint8Array {
  assertIdSize('envelope', 'vaultId', h.vaultId, VAULT_ID_BYTES)
  assertIdSize('envelope', 'docId', h.docId, DOC_ID_BYTES)
  assertIdSize('envelope', 'deviceId', h.deviceId, DEVICE_ID_BYTES)
  assertIdSize('envelope', 'prevHash', h.prevHash, HASH_BYTES)
  // Only snapshots carry covers: an update's seal allocates nothing here.
  if (h.covers) {
    for (const [i, c] of h.covers.entries()) {
      assertIdSize('envelope', `covers[${i}].deviceId`, c.deviceId, DEVICE_ID_BYTES)
      assertIdSize('envelope', `covers[${i}].hash`, c.hash, HASH_BYTES)
    }
  }
  if ((h.kind === EnvelopeKind.snapshot) !== (h.covers !== undefined)) {
    throw new MindsyncError('E_INVALID_INPUT', 'envelope: covers must be given for a snapshot and only for a snapshot', 'covers')
  }
  // Into a slab view of about its final size (slab.ts in @mindsync/crypto).
  return encodeOnto(headerEncoder, allocBytes(HEADER_HINT + (h.covers ? h.covers.length * COVER_HINT : 0)), (e) => {
    encoding.writeUint8(e, PROTOCOL_VERSION)
    encoding.writeUint8(e, h.kind)
    encoding.writeUint8Array(e, h.vaultId)
    encoding.writeUint8Array(e, h.docId)
    encoding.writeVarUint(e, h.epoch)
    encoding.writeUint8Array(e, h.deviceId)
    encoding.writeVarUint(e, h.seq)
    encoding.writeUint8Array(e, h.prevHash)
    if (h.covers) {
      const covers = [...h.covers].sort((a, b) => compareBytes(a.deviceId, b.deviceId))
      if (covers.some((c, i) => c.seq < 1 || (i > 0 && compareBytes(covers[i - 1]!.deviceId, c.deviceId) === 0))) {
        throw new MindsyncError('E_INVALID_INPUT', 'envelope: covers needs one entry per device, each with seq at least 1', 'covers')
      }
      encoding.writeVarUint(e, covers.length)
      for (const c of covers) {
        encoding.writeUint8Array(e, c.deviceId)
        encoding.writeVarUint(e, c.seq)
        encoding.writeUint8Array(e, c.hash)
      }
    }
  })
}

/** Reused by encodeHeader, which is synchronous and calls no other encoder. */
const headerEncoder = encoding.createEncoder()
/** A header's size without covers (ids of 16 bytes; lib0 grows past it for longer ones), and per cover. */
const HEADER_HINT = 2 + 16 + 16 + 9 + 16 + 9 + 32 + 9
const COVER_HINT = 16 + 9 + 32

function readCovers(r: Reader): CoveredHead[] {
  const n = r.varUint('covers count', MAX_COVERED_HEADS)
  const covers: CoveredHead[] = []
  for (let i = 0; i < n; i++) {
    const c = { deviceId: r.fixed(`covers[${i}].deviceId`, DEVICE_ID_BYTES), seq: r.varUint(`covers[${i}].seq`), hash: r.fixed(`covers[${i}].hash`, HASH_BYTES) }
    if (c.seq < 1) throw new MindsyncError('E_BAD_FRAME', `envelope: covers[${i}].seq must be at least 1`, 'covers')
    const before = covers[i - 1]
    if (before && compareBytes(before.deviceId, c.deviceId) >= 0) {
      throw new MindsyncError('E_BAD_FRAME', 'envelope: covers must be strictly ascending by device id', 'covers')
    }
    covers.push(c)
  }
  return covers
}

function readHeader(r: Reader): EnvelopeHeader {
  const version = r.u8('version')
  if (version !== PROTOCOL_VERSION) {
    throw new MindsyncError('E_BAD_FRAME', `envelope: version ${version} is not supported (expected ${PROTOCOL_VERSION})`, 'version')
  }
  const kind = r.u8('kind')
  if (!KINDS.has(kind)) throw new MindsyncError('E_BAD_FRAME', `envelope: kind ${kind} is unknown`, 'kind')
  const header: EnvelopeHeader = {
    kind: kind as EnvelopeKind,
    vaultId: r.fixed('vaultId', VAULT_ID_BYTES),
    docId: r.fixed('docId', DOC_ID_BYTES),
    epoch: r.varUint('epoch', 0xffffffff),
    deviceId: r.fixed('deviceId', DEVICE_ID_BYTES),
    seq: r.varUint('seq'),
    prevHash: r.fixed('prevHash', HASH_BYTES),
  }
  if (header.kind === EnvelopeKind.snapshot) header.covers = readCovers(r)
  if ((header.kind === EnvelopeKind.awareness) !== (header.seq === 0)) {
    throw new MindsyncError('E_BAD_FRAME', 'envelope: seq must be 0 for awareness and at least 1 otherwise', 'seq')
  }
  return header
}

/** Decodes and strictly validates an envelope's structure (not its signature). */
export function decodeEnvelope(bytes: Uint8Array, maxBodyBytes = MAX_BODY_BYTES): Envelope {
  const r = new Reader(bytes, 'envelope')
  const header = readHeader(r)
  const headerEnd = r.position
  const body = r.bytes('body', maxBodyBytes)
  if (body.length < NONCE_BYTES + 16) {
    throw new MindsyncError('E_BAD_FRAME', `envelope: body is ${body.length} bytes, shorter than nonce and tag`, 'body')
  }
  const signedEnd = r.position
  const signature = r.fixed('signature', SIGNATURE_BYTES)
  const tagBytes = r.remaining > 0 ? readTags(r) : EMPTY
  r.end()
  return {
    header,
    nonce: body.subarray(0, NONCE_BYTES),
    ciphertext: body.subarray(NONCE_BYTES),
    signature,
    headerBytes: bytes.subarray(0, headerEnd),
    signed: bytes.subarray(0, signedEnd),
    tagBytes,
    bytes,
  }
}

const EMPTY = new Uint8Array(0)

/** trailer := varUint(n ≥ 1) • n × (to(4) • tag(16)); absent when there are no tags, so each list has one encoding. */
function readTags(r: Reader): Uint8Array {
  const n = r.varUint('tags count', MAX_RECEIVER_TAGS)
  if (n < 1) throw new MindsyncError('E_BAD_FRAME', 'envelope: a tags trailer needs at least one tag', 'tags count')
  const whole = Math.floor(r.remaining / TAG_ENTRY_BYTES)
  if (whole < n) {
    // Name the first entry that is cut short, as a field-by-field read would.
    const left = r.remaining - whole * TAG_ENTRY_BYTES
    const [field, need, have] = left < TAG_TO_BYTES ? ['to', TAG_TO_BYTES, left] : ['tag', RECEIVER_TAG_BYTES, left - TAG_TO_BYTES]
    throw new MindsyncError('E_BAD_FRAME', `envelope: tags[${whole}].${field} needs ${need} bytes, only ${have} left`, `tags[${whole}].${field}`)
  }
  return r.fixed('tags', n * TAG_ENTRY_BYTES)
}

/** The receiver tags an envelope carries, in order. */
export function envelopeTags(env: Envelope): ReceiverTag[] {
  const tags: ReceiverTag[] = []
  for (let o = 0; o < env.tagBytes.length; o += TAG_ENTRY_BYTES) {
    tags.push({ to: env.tagBytes.subarray(o, o + TAG_TO_BYTES), tag: env.tagBytes.subarray(o + TAG_TO_BYTES, o + TAG_ENTRY_BYTES) })
  }
  return tags
}

/** The envelope with `tags` in place of any it had (none: no trailer). Signature and hash are unchanged. */
export function withTags(env: Envelope, tags: readonly ReceiverTag[]): Envelope {
  if (tags.length > MAX_RECEIVER_TAGS) throw new MindsyncError('E_INVALID_INPUT', `envelope: at most ${MAX_RECEIVER_TAGS} receiver tags`, 'tags')
  for (const t of tags) {
    if (t.to.length !== TAG_TO_BYTES || t.tag.length !== RECEIVER_TAG_BYTES) throw new MindsyncError('E_INVALID_INPUT', 'envelope: a receiver tag is 4 + 16 bytes', 'tags')
  }
  const signedEnd = env.signed.length + SIGNATURE_BYTES
  const countBytes = tags.length === 0 ? 0 : varUintLength(tags.length)
  const bytes = allocBytes(signedEnd + countBytes + tags.length * TAG_ENTRY_BYTES)
  bytes.set(env.bytes.subarray(0, signedEnd), 0)
  if (tags.length > 0) {
    let o = writeVarUint(bytes, signedEnd, tags.length)
    for (const t of tags) {
      bytes.set(t.to, o)
      bytes.set(t.tag, o + TAG_TO_BYTES)
      o += TAG_ENTRY_BYTES
    }
  }
  // Same layout as `env` up to the signature: point every field into the new bytes.
  const at = (part: Uint8Array): Uint8Array => bytes.subarray(part.byteOffset - env.bytes.byteOffset, part.byteOffset - env.bytes.byteOffset + part.length)
  return {
    header: env.header,
    nonce: at(env.nonce),
    ciphertext: at(env.ciphertext),
    signature: at(env.signature),
    headerBytes: at(env.headerBytes),
    signed: at(env.signed),
    tagBytes: bytes.subarray(signedEnd + countBytes),
    bytes,
  }
}

export interface SealInput extends EnvelopeHeader {
  /** The AEAD key for envelopes of this epoch (deriveKey(epochKey, 'envelope')). */
  key: Uint8Array
  signer: Signer
  plaintext: Uint8Array
}

/** Pads, seals (header as associated data) and signs a body. */
export function sealEnvelope(input: SealInput): Envelope {
  const { key, signer, plaintext, ...header } = input
  const headerBytes = encodeHeader(header)
  const padded = pad(plaintext)
  const bodyLength = NONCE_BYTES + padded.length + TAG_BYTES
  const signedLength = headerBytes.length + varUintLength(bodyLength) + bodyLength
  // One buffer holds the signing context, what is signed and the signature; the envelope is the
  // view after the context. Each array of its own outside V8's heap would cost more than all the
  // copies (slab.ts in @mindsync/crypto), and the nonce is read by libsodium from here.
  const buf = allocBytes(SIGN_CONTEXT.length + signedLength + SIGNATURE_BYTES)
  buf.set(SIGN_CONTEXT)
  let at = SIGN_CONTEXT.length
  buf.set(headerBytes, at)
  at = writeVarUint(buf, at + headerBytes.length, bodyLength)
  const nonce = buf.subarray(at, at + NONCE_BYTES)
  nonce.set(randomBytes(NONCE_BYTES))
  at += NONCE_BYTES
  const ciphertext = aeadSeal(key, nonce, padded, headerBytes)
  padded.fill(0)
  buf.set(ciphertext, at)
  at += ciphertext.length
  buf.set(signer.sign(buf.subarray(0, at)), at)
  const bytes = buf.subarray(SIGN_CONTEXT.length)
  const signedEnd = at - SIGN_CONTEXT.length
  return {
    header,
    nonce: bytes.subarray(signedEnd - ciphertext.length - NONCE_BYTES, signedEnd - ciphertext.length),
    ciphertext: bytes.subarray(signedEnd - ciphertext.length, signedEnd),
    signature: bytes.subarray(signedEnd),
    headerBytes: bytes.subarray(0, headerBytes.length),
    signed: bytes.subarray(0, signedEnd),
    tagBytes: EMPTY,
    bytes,
  }
}

/** True when the signature is the author's over header and sealed body. */
export function verifyEnvelope(env: Envelope, signingPublicKey: Uint8Array): boolean {
  const signed = allocBytes(SIGN_CONTEXT.length + env.signed.length)
  signed.set(SIGN_CONTEXT)
  signed.set(env.signed, SIGN_CONTEXT.length)
  return verify(signingPublicKey, signed, env.signature)
}

/**
 * Where opened bodies go: slab views (an array of its own costs microseconds
 * outside V8's heap, and a device opens one body per envelope it receives),
 * from slabs that hold nothing but opened bodies. A Yjs value an app reads
 * can be a view of its update, so its `.buffer` reaches the bodies opened
 * next to it, this process's own documents; never keys, which are opened
 * into arrays of their own.
 */
const allocOpened = createSlab()

/** Opens the body with the epoch's envelope key; throws E_DECRYPT when it does not authenticate. */
export function openEnvelope(env: Envelope, key: Uint8Array): Uint8Array {
  let padded: Uint8Array
  try {
    padded = aeadOpen(key, env.nonce, env.ciphertext, env.headerBytes, allocOpened(Math.max(0, env.ciphertext.length - TAG_BYTES)))
  } catch {
    throw new MindsyncError('E_DECRYPT', 'envelope: body does not open under the epoch key (tampered or wrong key)', 'body')
  }
  return unpad(padded)
}

/** The chain hash of an envelope: what the author's next envelope names as prevHash. */
export function envelopeHash(env: Envelope): Uint8Array {
  return hashParts('mindsync/v1/envelope-hash', env.signed)
}
