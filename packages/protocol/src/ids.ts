import { constantTimeEqual, hashParts, hmacSha256, randomBytes, toHex, utf8 } from '@mindsync/crypto'
import { MindsyncError } from './errors.js'

export const VAULT_ID_BYTES = 16
export const DOC_ID_BYTES = 16
export const DEVICE_ID_BYTES = 16
export const HASH_BYTES = 32
export const RELAY_ID_BYTES = 16
export const ZERO_HASH: Uint8Array = new Uint8Array(HASH_BYTES)

/**
 * Throws E_INVALID_INPUT naming `field` unless `value` is `size` bytes. Ids
 * and hashes are written without a length, so one of the wrong size would
 * make bytes that nobody can decode (`what` names the structure).
 */
export function assertIdSize(what: string, field: string, value: Uint8Array, size: number): void {
  if (value instanceof Uint8Array && value.length === size) return
  const got = value instanceof Uint8Array ? `${value.length} bytes` : typeof value
  throw new MindsyncError('E_INVALID_INPUT', `${what}: ${field} must be ${size} bytes, got ${got}`, field)
}

/** A new random 128-bit vault id. */
export function newVaultId(): Uint8Array {
  return randomBytes(VAULT_ID_BYTES)
}

/** Device id = the first 16 bytes of a domain-separated hash of the device's signing public key. */
export function deviceIdOf(signingPublicKey: Uint8Array): Uint8Array {
  return hashParts('mindsync/v1/device-id', signingPublicKey).slice(0, DEVICE_ID_BYTES)
}

/** The doc id the relay sees: a keyed hash of the doc's name, so names stay secret. */
export function docIdOf(docIdKey: Uint8Array, name: string): Uint8Array {
  return hmacSha256(docIdKey, utf8.encode(`mindsync/v1/doc-id/${name}`)).slice(0, DOC_ID_BYTES)
}

/** Equality of two ids or hashes, in constant time. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && constantTimeEqual(a, b)
}

/** Hex form of an id, used as a map key. */
export const idKey = toHex
