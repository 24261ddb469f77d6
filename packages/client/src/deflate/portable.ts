// Raw DEFLATE (RFC 1951) in plain JavaScript (fflate), for browsers; the same bytes as Node's zlib reads and writes.
import { deflateSync, inflateSync } from 'fflate'

export function deflate(data: Uint8Array): Uint8Array {
  return deflateSync(data, { level: 6 })
}

export function inflate(data: Uint8Array): Uint8Array {
  return inflateSync(data)
}
