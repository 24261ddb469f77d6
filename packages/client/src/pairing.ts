import { constantTimeEqual, fromBase64Url, hmacSha256, randomBytes, sha256, toBase64Url, utf8 } from '@mindsync/crypto'
import { MindsyncError, Reader, concatBytes } from '@mindsync/protocol'
import * as encoding from 'lib0/encoding'

const PREFIX = 'ms1-'

/** What a new device offers: its public keys, its name, and a secret the relay never sees. */
export interface PairingOffer {
  signPub: Uint8Array
  dhPub: Uint8Array
  /** Shared only through the code the user carries, so the new device can tell the vault it joins is the one its user meant. */
  secret: Uint8Array
  name: string
}

/** Makes the pairing secret for a new offer. */
export function newPairingSecret(): Uint8Array {
  return randomBytes(16)
}

/** code := "ms1-" base64url( u8(1) • signPub(32) • dhPub(32) • secret(16) • varString(name) • checksum(4) ) */
export function encodePairingCode(offer: PairingOffer): string {
  const e = encoding.createEncoder()
  encoding.writeUint8(e, 1)
  encoding.writeUint8Array(e, offer.signPub)
  encoding.writeUint8Array(e, offer.dhPub)
  encoding.writeUint8Array(e, offer.secret)
  encoding.writeVarString(e, offer.name)
  const body = encoding.toUint8Array(e)
  return PREFIX + toBase64Url(concatBytes(body, sha256(body).subarray(0, 4)))
}

/** Parses a pairing code; a mistyped or truncated code fails its checksum with a clear message. */
export function decodePairingCode(code: string): PairingOffer {
  const bad = (why: string): never => {
    throw new MindsyncError('E_INVALID_INPUT', `pairing code: ${why}`, 'code')
  }
  const trimmed = code.trim()
  if (!trimmed.startsWith(PREFIX)) bad(`must start with "${PREFIX}"`)
  let raw: Uint8Array
  try {
    raw = fromBase64Url(trimmed.slice(PREFIX.length))
  } catch {
    return bad('is not valid base64url (was it copied whole?)')
  }
  if (raw.length < 1 + 32 + 32 + 16 + 1 + 4) bad('is too short (was it copied whole?)')
  const body = raw.subarray(0, raw.length - 4)
  if (!constantTimeEqual(sha256(body).subarray(0, 4), raw.subarray(raw.length - 4))) bad('checksum does not match (was it copied whole?)')
  const r = new Reader(body, 'pairing code')
  if (r.u8('version') !== 1) bad('unsupported version')
  const offer = { signPub: r.fixed('signPub', 32), dhPub: r.fixed('dhPub', 32), secret: r.fixed('secret', 16), name: r.string('name', 256) }
  r.end()
  return offer
}

/** The proof a member puts in the new device's lockbox: only someone holding the code can make it. */
export function pairingProof(secret: Uint8Array, vaultId: Uint8Array): Uint8Array {
  return hmacSha256(secret, concatBytes(utf8.encode('mindsync/v1/pair\0'), vaultId))
}
