import { allocBytes } from '@mindsync/crypto'
import { MindsyncError } from './errors.js'

/**
 * Bucket sizes for sealed bodies, so the relay learns little from sizes.
 * Up to 1 KiB: the next power of two (at least 64 B), which hides the exact
 * size of typical small updates. Above: Padmé (Nikitin et al., "Reducing
 * Metadata Leakage from Encrypted Files and Communication with PURBs",
 * PETS 2019), which leaks O(log log L) bits at under 12% overhead.
 */
const MIN_PADDED = 64
const POW2_UP_TO = 1024

export function paddedLength(length: number): number {
  const l = Math.max(length, MIN_PADDED)
  if (l <= POW2_UP_TO) return 2 ** Math.ceil(Math.log2(l))
  const e = Math.floor(Math.log2(l))
  const s = Math.floor(Math.log2(e)) + 1
  const lastBits = e - s
  const mask = 2 ** lastBits - 1
  return Math.floor((l + mask) / 2 ** lastBits) * 2 ** lastBits
}

/** Appends a 0x80 marker then zeros up to the Padmé length (ISO/IEC 7816-4 style). */
export function pad(plaintext: Uint8Array): Uint8Array {
  // Zeroed like a new array, without one of its own outside V8's heap (slab.ts in @mindsync/crypto).
  const out = allocBytes(paddedLength(plaintext.length + 1))
  out.set(plaintext)
  out[plaintext.length] = 0x80
  return out
}

/** Removes the padding; throws when the marker is missing (a body that was not padded by us). */
export function unpad(padded: Uint8Array): Uint8Array {
  for (let i = padded.length - 1; i >= 0; i--) {
    const b = padded[i]
    if (b === 0x80) return padded.subarray(0, i)
    if (b !== 0) break
  }
  throw new MindsyncError('E_BAD_FRAME', 'sealed body: padding marker missing', 'body')
}
