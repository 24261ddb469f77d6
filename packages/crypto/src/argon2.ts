// Argon2id (RFC 9106). Node 20 has no native Argon2, so every backend uses
// noble's implementation.
import { argon2id as nobleArgon2id, argon2idAsync as nobleArgon2idAsync } from '@noble/hashes/argon2.js'
import { utf8 } from './encoding.js'
import { inputError } from './errors.js'
import { assertBytesOrString, assertInteger, assertMinBytes, assertOptionalBytes } from './validate.js'

/** Argon2id cost parameters (RFC 9106 section 3.1). `m` is in KiB. */
export interface Argon2idOptions {
  /** Passes over memory, at least 1. */
  t: number
  /** Memory in KiB, at least 8 * p and at most 1 GiB. */
  m: number
  /** Lanes (parallelism), 1 to 2^24 - 1. */
  p: number
  /** Output length in bytes, 4 or more; default 32. */
  dkLen?: number
  /** Optional secret value K. */
  secret?: Uint8Array
  /** Optional associated data X. */
  ad?: Uint8Array
}

// noble's default memory budget; larger arrays fail in most JS engines anyway.
const MAX_M_KIB = 1024 * 1024

function prepare(password: Uint8Array | string, salt: Uint8Array, options: Argon2idOptions) {
  assertBytesOrString('password', password)
  const pwd = typeof password === 'string' ? utf8.encode(password) : password
  assertMinBytes('salt', salt, 8)
  if (typeof options !== 'object' || options === null) throw inputError('options must be an object')
  const { t, m, p, dkLen = 32, secret, ad } = options
  assertInteger('options.t', t, 1, 2 ** 32 - 1)
  assertInteger('options.p', p, 1, 2 ** 24 - 1)
  assertInteger('options.m', m, 8 * p, MAX_M_KIB)
  assertInteger('options.dkLen', dkLen, 4, 2 ** 32 - 1)
  assertOptionalBytes('options.secret', secret)
  assertOptionalBytes('options.ad', ad)
  const opts = { t, m, p, dkLen, ...(secret && { key: secret }), ...(ad && { personalization: ad }) }
  return [pwd, opts] as const
}

/**
 * Argon2id key derivation; blocks the thread for the whole computation.
 * @example
 * const key = argon2id(recoveryCode, salt, { t: 3, m: 65536, p: 1 })
 */
export function argon2id(password: Uint8Array | string, salt: Uint8Array, options: Argon2idOptions): Uint8Array {
  const [pwd, opts] = prepare(password, salt, options)
  return nobleArgon2id(pwd, salt, opts)
}

/**
 * Argon2id key derivation that yields to the event loop while it runs.
 * @example
 * const key = await argon2idAsync(recoveryCode, salt, { t: 3, m: 65536, p: 1 })
 */
export async function argon2idAsync(
  password: Uint8Array | string,
  salt: Uint8Array,
  options: Argon2idOptions,
): Promise<Uint8Array> {
  const [pwd, opts] = prepare(password, salt, options)
  return nobleArgon2idAsync(pwd, salt, opts)
}
