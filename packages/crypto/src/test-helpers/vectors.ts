import { readFileSync } from 'node:fs'
import { expect } from 'vitest'
import type { CryptoErrorCode } from '../errors.js'
import { CryptoError } from '../errors.js'

/** One Wycheproof test; byte fields are hex. */
export interface WycheproofTest {
  tcId: number
  comment: string
  flags: string[]
  result: 'valid' | 'invalid' | 'acceptable'
  [field: string]: unknown
}

/** A Wycheproof file (testvectors_v1 layout). */
export interface WycheproofFile {
  numberOfTests: number
  testGroups: Array<{ tests: WycheproofTest[]; [field: string]: unknown }>
}

/** Reads a vector file from packages/crypto/test-vectors/. */
export function loadVectors<T = WycheproofFile>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../test-vectors/${name}`, import.meta.url), 'utf8')) as T
}

/** Hex field of a test, as bytes. */
export function bytes(test: Record<string, unknown>, field: string): Uint8Array {
  return Uint8Array.from(Buffer.from(test[field] as string, 'hex'))
}

/** Lowercase hex of bytes. */
export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex')
}

/** The CryptoError thrown by `fn`, or undefined if it did not throw one. */
export function catchCryptoError(fn: () => unknown): CryptoError | undefined {
  try {
    fn()
  } catch (error) {
    if (error instanceof CryptoError) return error
    throw error
  }
  return undefined
}

/** Asserts `fn` throws a CryptoError with `code` (and a message matching `message`). */
export function expectCryptoError(fn: () => unknown, code: CryptoErrorCode, message?: RegExp | string): void {
  const error = catchCryptoError(fn)
  expect(error, 'expected a CryptoError').toBeInstanceOf(CryptoError)
  expect(error?.code).toBe(code)
  if (message !== undefined) expect(error?.message).toMatch(message)
}
