import { CryptoError, inputError } from './errors.js'
import { assertBytes, assertString } from './validate.js'

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const HEX_RE = /^[0-9a-fA-F]*$/

type HexBuffer = { from(buffer: ArrayBufferLike, byteOffset: number, length: number): { toString(encoding: 'hex'): string } }
const NodeBuffer = (globalThis as { Buffer?: HexBuffer }).Buffer

/**
 * Lowercase hexadecimal encoding. On Node, Buffer encodes in native code: a
 * 32-byte ID in about a third of the time the loop takes, and a device turns
 * a few IDs into Map keys for every envelope it receives.
 */
export function toHex(b: Uint8Array): string {
  assertBytes('b', b)
  return NodeBuffer === undefined ? toHexPortable(b) : NodeBuffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

/** toHex without Node's Buffer, as in a browser (exported for its test). */
export function toHexPortable(b: Uint8Array): string {
  let s = ''
  for (const byte of b) s += HEX[byte]
  return s
}

/** Decodes hexadecimal (either case); throws E_CRYPTO_INPUT on odd length or a non-hex character. */
export function fromHex(s: string): Uint8Array {
  assertString('s', s)
  if (s.length % 2 !== 0) throw inputError(`hex string must have an even length, got ${s.length}`)
  if (!HEX_RE.test(s)) throw inputError('hex string must contain only 0-9, a-f, A-F')
  const out = new Uint8Array(s.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(s.slice(2 * i, 2 * i + 2), 16)
  return out
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const B64_INDEX = new Int16Array(128).fill(-1)
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i

/** Base64url without padding (RFC 4648 section 5). */
export function toBase64Url(b: Uint8Array): string {
  assertBytes('b', b)
  let s = ''
  let i = 0
  for (; i + 2 < b.length; i += 3) {
    const n = ((b[i] as number) << 16) | ((b[i + 1] as number) << 8) | (b[i + 2] as number)
    s += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!
  }
  const rest = b.length - i
  if (rest === 1) {
    const n = (b[i] as number) << 16
    s += B64[n >> 18]! + B64[(n >> 12) & 63]!
  } else if (rest === 2) {
    const n = ((b[i] as number) << 16) | ((b[i + 1] as number) << 8)
    s += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]!
  }
  return s
}

/**
 * Decodes unpadded base64url strictly: throws E_CRYPTO_INPUT on any character
 * outside the alphabet, padding, an impossible length or non-zero trailing
 * bits, so every byte string has exactly one accepted encoding.
 */
export function fromBase64Url(s: string): Uint8Array {
  assertString('s', s)
  if (s.length % 4 === 1) throw inputError(`base64url string has an impossible length ${s.length}`)
  const out = new Uint8Array(Math.floor((s.length * 3) / 4))
  let acc = 0
  let bits = 0
  let o = 0
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i)
    const v = code < 128 ? (B64_INDEX[code] as number) : -1
    if (v < 0) throw inputError(`base64url string has an invalid character at index ${i}`)
    acc = ((acc << 6) | v) & 0xffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw inputError('base64url string has non-zero trailing bits')
  return out
}

const encoder = new TextEncoder()
// fatal: invalid UTF-8 throws instead of becoming U+FFFD; ignoreBOM keeps a
// leading BOM, so decode(encode(s)) === s for every well-formed string.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Strict UTF-8: encode refuses lone surrogates, decode refuses invalid UTF-8 (E_CRYPTO_INPUT). */
export const utf8: { encode(s: string): Uint8Array; decode(b: Uint8Array): string } = {
  encode(s) {
    assertString('s', s)
    if (LONE_SURROGATE.test(s)) throw inputError('string contains a lone surrogate and has no UTF-8 encoding')
    return encoder.encode(s)
  },
  decode(b) {
    assertBytes('b', b)
    try {
      return decoder.decode(b)
    } catch (cause) {
      throw new CryptoError('E_CRYPTO_INPUT', 'bytes are not valid UTF-8', { cause })
    }
  },
}

/** Bytes of the unsigned LEB128 (lib0's varUint) of `n`. */
export function varUintLength(n: number): number {
  let len = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    len++
  }
  return len
}

/** Writes the unsigned LEB128 (lib0's varUint) of `n` at `offset`; returns the offset after it. */
export function writeVarUint(out: Uint8Array, offset: number, n: number): number {
  while (n >= 0x80) {
    out[offset++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 0x80)
  }
  out[offset++] = n
  return offset
}
