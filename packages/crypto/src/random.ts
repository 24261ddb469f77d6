import { assertInteger } from './validate.js'

// One system call per 4 KiB instead of one per nonce: a 24-byte nonce from
// getRandomValues costs about 5 us, a copy from the pool well under 1 us.
const POOL_BYTES = 4096
// Larger requests bypass the pool so they do not drain it.
const POOL_MAX_REQUEST = 256
const MAX_LENGTH = 2 ** 31 - 1

/** Creates a `randomBytes(length)` that serves small requests from a pool filled by `fill`. */
export function createRandomBytes(fill: (out: Uint8Array) => void): (length: number) => Uint8Array {
  const pool = new Uint8Array(POOL_BYTES)
  let offset = POOL_BYTES
  return function randomBytes(length: number): Uint8Array {
    assertInteger('length', length, 0, MAX_LENGTH)
    if (length > POOL_MAX_REQUEST) {
      const out = new Uint8Array(length)
      fill(out)
      return out
    }
    if (offset + length > POOL_BYTES) {
      fill(pool)
      offset = 0
    }
    const end = offset + length
    // A copy, then the used bytes are erased: the pool never holds bytes
    // that were handed out (keys and nonces must not linger or repeat).
    const out = pool.slice(offset, end)
    pool.fill(0, offset, end)
    offset = end
    return out
  }
}
