import { assertBytes } from './validate.js'

/** An empty byte array; never written to. */
export const EMPTY = new Uint8Array(0)

/** Concatenates byte arrays into a new one. */
export function concatBytes(...arrays: Uint8Array[]): Uint8Array {
  let length = 0
  for (const a of arrays) length += a.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const a of arrays) {
    out.set(a, offset)
    offset += a.length
  }
  return out
}

/**
 * Compares two byte arrays in time that depends only on their lengths.
 * @example
 * constantTimeEqual(expectedMac, receivedMac) // true or false
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  assertBytes('a', a)
  assertBytes('b', b)
  if (a.length !== b.length) return false // lengths are public
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}

/**
 * Overwrites `bytes` with zeros (best effort: copies made elsewhere are not reached).
 * @example
 * wipe(secretKey)
 */
export function wipe(bytes: Uint8Array): void {
  assertBytes('bytes', bytes)
  bytes.fill(0)
}

/** Copies `from` into `into` (the same length), wipes `from`, and returns `into`. */
export function moveInto(from: Uint8Array, into: Uint8Array): Uint8Array {
  into.set(from)
  from.fill(0)
  return into
}
