/** Entry ids: 12 hex digits of Unix milliseconds, then 16 random hex digits. */
export const ENTRY_ID_PATTERN = /^[0-9a-f]{28}$/

const MAX_MS = 0xffff_ffff_ffff

/**
 * A new entry id. Ids sort by creation time and need no coordination between
 * devices: 64 random bits make a collision negligible.
 */
export function createId(ms: number): string {
  const time = Math.min(Math.max(Math.floor(ms), 0), MAX_MS)
  const bytes = new Uint8Array(8)
  globalThis.crypto.getRandomValues(bytes)
  let random = ''
  for (const byte of bytes) random += byte.toString(16).padStart(2, '0')
  return time.toString(16).padStart(12, '0') + random
}

/** True when `value` has the shape of an entry id. */
export function isEntryId(value: unknown): value is string {
  return typeof value === 'string' && ENTRY_ID_PATTERN.test(value)
}
