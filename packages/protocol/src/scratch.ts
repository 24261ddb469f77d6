import * as encoding from 'lib0/encoding'

/**
 * A typed array of more than 64 bytes lives outside V8's heap: allocating
 * one costs about a microsecond and counts towards the external memory that
 * makes V8 collect garbage sooner. Node's Buffer.allocUnsafe hands out small
 * ones from a shared 8 KiB slab instead. For bytes that are written in full
 * before anyone reads them (unzeroed memory) and do not live long (frames).
 */
const pooled = (globalThis as { Buffer?: { allocUnsafe(size: number): Uint8Array<ArrayBuffer> } }).Buffer

export const allocScratch = (size: number): Uint8Array<ArrayBuffer> => (pooled ? pooled.allocUnsafe(size) : new Uint8Array(size))

/**
 * Runs `write` on `encoder`, started on `buf` (a buffer of about the final
 * size, so lib0 neither allocates its own 100 bytes outside V8's heap nor
 * copies chunks together at the end), and returns what was written: a plain
 * Uint8Array view of `buf` when it fit, lib0's joined copy when it grew past
 * it. `encoder` is reused across calls by a synchronous caller that never
 * runs inside itself; it lets go of `buf` before returning.
 */
export function encodeOnto(encoder: encoding.Encoder, buf: Uint8Array<ArrayBuffer>, write: (e: encoding.Encoder) => void): Uint8Array {
  encoder.cbuf = buf
  encoder.cpos = 0
  encoder.bufs = []
  try {
    write(encoder)
    return encoder.bufs.length === 0 ? new Uint8Array(buf.buffer, buf.byteOffset, encoder.cpos) : encoding.toUint8Array(encoder)
  } finally {
    encoder.cbuf = EMPTY
    encoder.bufs = []
  }
}

const EMPTY = new Uint8Array(0)
