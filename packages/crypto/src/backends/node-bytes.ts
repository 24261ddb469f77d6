/**
 * Node returns Buffers; hand out plain Uint8Arrays. A Buffer that owns its
 * whole ArrayBuffer is wrapped without a copy; a slice of Node's shared pool
 * is copied and the slice zeroed, so no caller can reach other pool data
 * through `.buffer` and no secret stays behind in the pool.
 */
export function fromBuffer(buf: Buffer): Uint8Array {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) {
    return new Uint8Array(buf.buffer, 0, buf.length)
  }
  const out = new Uint8Array(buf)
  buf.fill(0)
  return out
}
