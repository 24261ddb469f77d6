// SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104), keyed BLAKE2b with a 16-byte
// output (RFC 7693; libsodium's crypto_generichash with a key) and a
// domain-separated hash.
import type { Backend } from './backends/types.js'
import { utf8, varUintLength, writeVarUint } from './encoding.js'
import { assertBytes, assertContext } from './validate.js'

/** Hash functions bound to a backend. */
export interface Hashes {
  sha256(data: Uint8Array): Uint8Array
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array
  blake2bMac128(key: Uint8Array, data: Uint8Array): Uint8Array
  hashParts(context: string, ...parts: Uint8Array[]): Uint8Array
}

/**
 * Encodes varUint(len(context)) || context || varUint(len(p1)) || p1 || ...:
 * every list of parts has exactly one encoding, so no two inputs collide.
 * With `scratch` large enough, the encoding is written there and a view of
 * it is returned (no allocation).
 */
export function encodeParts(context: Uint8Array, parts: readonly Uint8Array[], scratch?: Uint8Array): Uint8Array {
  let size = varUintLength(context.length) + context.length
  for (const part of parts) size += varUintLength(part.length) + part.length
  const out = scratch && scratch.length >= size ? scratch.subarray(0, size) : new Uint8Array(size)
  let offset = writeVarUint(out, 0, context.length)
  out.set(context, offset)
  offset += context.length
  for (const part of parts) {
    offset = writeVarUint(out, offset, part.length)
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/**
 * Where hashParts encodes its input before hashing it: every envelope is
 * hashed on receipt, and a fresh buffer of a few hundred bytes each time is
 * an allocation outside V8's heap and work for the GC. Hashing is
 * synchronous, so one buffer serves every call; it is wiped after each.
 */
const scratch = new Uint8Array(4096)

// Contexts are a handful of constants hashed with every envelope: encode each once.
const contexts = new Map<string, Uint8Array>()
function encodedContext(context: string): Uint8Array {
  let bytes = contexts.get(context)
  if (!bytes) {
    assertContext('context', context)
    bytes = utf8.encode(context)
    if (contexts.size < 256) contexts.set(context, bytes)
  }
  return bytes
}

/** Binds the hashes to `backend`, with input checks. */
export function createHashes(backend: Backend): Hashes {
  return {
    sha256(data) {
      assertBytes('data', data)
      return backend.sha256(data)
    },
    hmacSha256(key, data) {
      assertBytes('key', key)
      assertBytes('data', data)
      return backend.hmacSha256(key, data)
    },
    blake2bMac128(key, data) {
      assertBytes('key', key, 32)
      assertBytes('data', data)
      return backend.blake2bMac128(key, data)
    },
    hashParts(context, ...parts) {
      for (let i = 0; i < parts.length; i++) assertBytes(`parts[${i}]`, parts[i])
      const input = encodeParts(encodedContext(context), parts, scratch)
      const digest = backend.sha256(input)
      if (input.buffer === scratch.buffer) input.fill(0) // nothing a caller hashed stays behind
      return digest
    },
  }
}
