import { concatBytes, hkdfSha256, hmacSha512_256, utf8, x25519 } from '@mindsync/crypto'
import { compareBytes } from './bytes.js'
import { RECEIVER_TAG_BYTES, TAG_ENTRY_BYTES, TAG_TO_BYTES } from './envelope.js'
import type { Envelope, ReceiverTag } from './envelope.js'

/**
 * Receiver tags: a cheap way for a live receiver to know an envelope's author.
 *
 * The signature makes an envelope's author provable to anyone, but verifying
 * it costs a receiver about 150 µs, many times the rest of receiving. Next
 * to the signature the author adds, for each other current member, a 16-byte
 * HMAC (HMAC-SHA-512/256, libsodium's crypto_auth: one native call of about
 * 1 µs, against 3 µs for an HMAC-SHA256 object from node:crypto; an author
 * makes one per member for every envelope) of the envelope hash under a key
 * only the two of them can derive
 * (their X25519 agreement, salted with the epoch's tag key so a removed
 * device's keys derive nothing for a later epoch). A receiver that finds
 * its tag and checks it (about 2 µs) knows the author wrote the envelope:
 * nobody else holds that key, and the hash covers header and sealed body.
 * Without a valid tag (a device paired later, tags stripped or damaged) it
 * verifies the signature as before. Tags prove nothing to a third party, so
 * evidence (an equivocation alert) still rests on the signature.
 */

const PAIR_CONTEXT = utf8.encode('mindsync/v1/pair-tag-hmac512\0')

/** The tag key of two devices for one epoch: HKDF(X25519(mine, theirs), salt = epoch tag key, info = context • ids in order). */
export function pairTagKey(epochTagKey: Uint8Array, myDhSecret: Uint8Array, theirDhPub: Uint8Array, myId: Uint8Array, theirId: Uint8Array): Uint8Array {
  const [a, b] = compareBytes(myId, theirId) < 0 ? [myId, theirId] : [theirId, myId]
  return hkdfSha256(x25519(myDhSecret, theirDhPub), epochTagKey, concatBytes(PAIR_CONTEXT, a, b), 32)
}

/** The tag for the receiver `to` (its device id) over an envelope hash. */
export function receiverTag(pairKey: Uint8Array, to: Uint8Array, hash: Uint8Array): ReceiverTag {
  return { to: to.subarray(0, TAG_TO_BYTES), tag: hmacSha512_256(pairKey, hash).subarray(0, RECEIVER_TAG_BYTES) }
}

/** True when `env` carries a tag for `me` that is valid under the pair key (`hash` = envelopeHash(env)). */
export function hasValidTag(env: Envelope, hash: Uint8Array, me: Uint8Array, pairKey: Uint8Array): boolean {
  const trailer = env.tagBytes
  if (trailer.length === 0) return false
  const expected = hmacSha512_256(pairKey, hash)
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
