import { expect } from 'vitest'
import type { LocalEnvelope, OutboxEntry } from '../localStore.js'

/** Deterministic, non-repeating test bytes: the same (seed, length) always gives the same value. */
export function testBytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = (seed * 0x9e3779b1) >>> 0 || 1
  for (let i = 0; i < length; i++) {
    // xorshift32: cheap enough for 1 MiB, and no two seeds share a prefix.
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Hex of a byte array; anything else is shown as what it is, so a wrong type shows up in the diff. */
export function hexOf(value: unknown): string {
  if (!(value instanceof Uint8Array)) return `<not bytes: ${Object.prototype.toString.call(value)}>`
  let s = ''
  for (const b of value) s += HEX[b]
  return s
}

/**
 * Asserts `actual` is a Uint8Array holding exactly `expected`. Compares in a
 * loop rather than with `toEqual`, which fails a Buffer against a
 * Uint8Array and is slow on a megabyte.
 */
export function expectBytes(actual: unknown, expected: Uint8Array, what: string): void {
  expect(actual, `${what} is a Uint8Array`).toBeInstanceOf(Uint8Array)
  const a = actual as Uint8Array
  expect(a.length, `${what}: length`).toBe(expected.length)
  let firstDiff = -1
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== expected[i]) {
      firstDiff = i
      break
    }
  }
  expect(firstDiff, `${what}: index of the first differing byte`).toBe(-1)
}

/** An envelope in a form `toEqual` compares well and prints readably. */
export const envelopeView = (e: LocalEnvelope) => ({ author: e.author, seq: e.seq, serverSeq: e.serverSeq, envelope: hexOf(e.envelope) })

/** An outbox entry reduced to the fields of the interface. */
export const outboxView = (e: OutboxEntry) => ({ seq: e.seq, envelope: hexOf(e.envelope) })
