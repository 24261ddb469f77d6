// HKDF-SHA256 (RFC 5869).
import type { Backend } from './backends/types.js'
import { utf8 } from './encoding.js'
import { assertBytes, assertBytesOrString, assertInteger, assertOptionalBytes } from './validate.js'

/** RFC 5869 section 2.3: L <= 255 * HashLen. */
const MAX_LENGTH = 255 * 32

/** Binds HKDF-SHA256 to `backend`, with input checks. */
export function createHkdf(
  backend: Backend,
): (ikm: Uint8Array, salt: Uint8Array | undefined, info: Uint8Array | string, length: number) => Uint8Array {
  return function hkdfSha256(ikm, salt, info, length) {
    assertBytes('ikm', ikm)
    assertOptionalBytes('salt', salt)
    assertBytesOrString('info', info)
    if (typeof info === 'string') info = utf8.encode(info)
    assertInteger('length', length, 1, MAX_LENGTH)
    return backend.hkdfSha256(ikm, salt, info, length)
  }
}
