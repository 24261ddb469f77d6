import { blake2bMac128, concatBytes, hkdfSha256, utf8, x25519 } from '@mindsync/crypto'
import { compareBytes } from './bytes.js'
import { RECEIVER_TAG_BYTES, SIGNATURE_BYTES, TAG_ENTRY_BYTES, TAG_TO_BYTES, decodeEnvelope } from './envelope.js'
import { allocScratch } from './scratch.js'
import type { Envelope, ReceiverTag } from './envelope.js'

/**
 * Receiver tags: a cheap way for a live receiver to know an envelope's author.
 *
 * The signature makes an envelope's author provable to anyone, but verifying
 * it costs a receiver about 150 µs, many times the rest of receiving. Next
 * to the signature the author adds, for each other current member, a 16-byte
 * MAC (keyed BLAKE2b, RFC 7693: libsodium's crypto_generichash with a key,
 * one native call of about 0.5 µs, against 1.1 µs for HMAC-SHA-512 and 3 µs
 * for an HMAC-SHA256 object from node:crypto; an author makes one per member
 * for every envelope) of the envelope hash under a key only the two of them
 * can derive
 * (their X25519 agreement, salted with the epoch's tag key so a removed
 * device's keys derive nothing for a later epoch). A receiver that finds
 * its tag and checks it (about 1 µs) knows the author wrote the envelope:
 * nobody else holds that key, and the hash covers header and sealed body.
 * Without a valid tag (a device paired later, tags stripped or damaged) it
 * verifies the signature as before. Tags prove nothing to a third party, so
 * evidence (an equivocation alert) still rests on the signature.
 */

const PAIR_CONTEXT = utf8.encode('mindsync/v1/pair-tag-blake2b\0')

/** The tag key of two devices for one epoch: HKDF(X25519(mine, theirs), salt = epoch tag key, info = context • ids in order). */
export function pairTagKey(epochTagKey: Uint8Array, myDhSecret: Uint8Array, theirDhPub: Uint8Array, myId: Uint8Array, theirId: Uint8Array): Uint8Array {
  const [a, b] = compareBytes(myId, theirId) < 0 ? [myId, theirId] : [theirId, myId]
  return hkdfSha256(x25519(myDhSecret, theirDhPub), epochTagKey, concatBytes(PAIR_CONTEXT, a, b), 32)
}

/** The tag for the receiver `to` (its device id) over an envelope hash. */
export function receiverTag(pairKey: Uint8Array, to: Uint8Array, hash: Uint8Array): ReceiverTag {
  return { to: to.subarray(0, TAG_TO_BYTES), tag: blake2bMac128(pairKey, hash) }
}

/** True when `env` carries a tag for `me` that is valid under the pair key (`hash` = envelopeHash(env)). */
export function hasValidTag(env: Envelope, hash: Uint8Array, me: Uint8Array, pairKey: Uint8Array): boolean {
  const trailer = env.tagBytes
  if (trailer.length === 0) return false
  const expected = blake2bMac128(pairKey, hash)
  let valid = false
  // Two receivers may share a prefix: any tag addressed to this device may be its own.
  for (let o = 0; o < trailer.length; o += TAG_ENTRY_BYTES) {
    if (!prefixMatches(trailer, o, me)) continue
    let diff = 0
    for (let i = 0; i < RECEIVER_TAG_BYTES; i++) diff |= (trailer[o + TAG_TO_BYTES + i] as number) ^ (expected[i] as number)
    if (diff === 0) valid = true
  }
  return valid
}

/** The `to` field at `offset` is the first bytes of `id` (public data: no need for constant time). */
function prefixMatches(trailer: Uint8Array, offset: number, id: Uint8Array): boolean {
  for (let i = 0; i < TAG_TO_BYTES; i++) if (trailer[offset + i] !== id[i]) return false
  return true
}

/**
 * The envelope as one receiver needs it: only the tags addressed to
 * `receiver` (its device id; normally one tag, more when two members share
 * the 4-byte prefix), no trailer when none is. The relay sends every
 * subscriber this view: tags sit outside the signature and the hash, so the
 * envelope stays the same envelope, and another device's tag is of no use to
 * a receiver while all of them are (n - 1) × 20 bytes of every envelope
 * (180 of about 480 bytes with 10 devices, 980 of about 1,300 with 50).
 * Bytes that are not a well-formed envelope come back unchanged.
 */
export function receiverView(bytes: Uint8Array, receiver: Uint8Array): Uint8Array {
  const trailer = trailerOf(bytes)
  if (!trailer) return bytes
  const { at, tags } = trailer
  let mine = 0
  for (let o = 0; o < tags.length; o += TAG_ENTRY_BYTES) if (prefixMatches(tags, o, receiver)) mine++
  // More than 127 tags for one prefix is no honest envelope; it goes as it came (one varUint byte below).
  if (mine * TAG_ENTRY_BYTES === tags.length || mine > 127) return bytes
  // Short-lived (the relay copies it into a frame), and every byte is written below.
  const out = allocScratch(at + (mine > 0 ? 1 + mine * TAG_ENTRY_BYTES : 0))
  out.set(bytes.subarray(0, at))
  if (mine === 0) return out
  out[at] = mine
  let w = at + 1
  for (let o = 0; o < tags.length; o += TAG_ENTRY_BYTES) {
    if (!prefixMatches(tags, o, receiver)) continue
    out.set(tags.subarray(o, o + TAG_ENTRY_BYTES), w)
    w += TAG_ENTRY_BYTES
  }
  return out
}

/**
 * Where an envelope's tags trailer starts (the end of its signature) and its
 * tag entries; null without tags or when the bytes are not an envelope.
 * Kept per byte array: fan-out hands the same bytes to every subscriber, so
 * each envelope is decoded once, not once per receiver.
 */
const trailers = new WeakMap<Uint8Array, { at: number; tags: Uint8Array } | null>()
function trailerOf(bytes: Uint8Array): { at: number; tags: Uint8Array } | null {
  let t = trailers.get(bytes)
  if (t === undefined) {
    try {
      const env = decodeEnvelope(bytes)
      t = env.tagBytes.length > 0 ? { at: env.signed.length + SIGNATURE_BYTES, tags: env.tagBytes } : null
    } catch {
      t = null
    }
    trailers.set(bytes, t)
  }
  return t
}
