// Shared by the protocol tests: fixed keys, a hand-built envelope encoder and
// small assertions on MindsyncError codes. Not part of the package build.
import { createSigner, dhPublicKey, signingPublicKey, utf8 } from '@mindsync/crypto'
import type { Signer } from '@mindsync/crypto'
import * as encoding from 'lib0/encoding'
import { expect } from 'vitest'
import { MindsyncError, concatBytes, deviceIdOf, encodeHeader } from '../src/index.js'
import type { EnvelopeHeader, ErrorCode } from '../src/index.js'

/** A device whose keys are all derived from one byte, so tests and vectors are reproducible. */
export interface TestDevice {
  seed: Uint8Array
  signer: Signer
  signPub: Uint8Array
  deviceId: Uint8Array
  dhSecret: Uint8Array
  dhPub: Uint8Array
}

/** Ed25519 seed = 32 × n, X25519 secret = 32 × (n + 0x80). */
export function testDevice(n: number): TestDevice {
  const seed = new Uint8Array(32).fill(n)
  const dhSecret = new Uint8Array(32).fill(n + 0x80)
  const signPub = signingPublicKey(seed)
  return { seed, signer: createSigner(seed), signPub, deviceId: deviceIdOf(signPub), dhSecret, dhPub: dhPublicKey(dhSecret) }
}

export const filled = (length: number, byte: number): Uint8Array => new Uint8Array(length).fill(byte)

/** The signature contexts, spelled out here on purpose: a change to the ones in src must fail a test. */
export const ENVELOPE_CONTEXT = utf8.encode('mindsync/v1/envelope\0')
export const OP_CONTEXT = utf8.encode('mindsync/v1/op\0')
export const AUTH_CONTEXT = utf8.encode('mindsync/v1/auth\0')

/**
 * Assembles an envelope without sealEnvelope, from any header and body:
 * header • varUint(24 + |ciphertext|) • nonce • ciphertext • Ed25519(context • signed).
 */
export function assembleEnvelope(header: EnvelopeHeader | Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, signer: Signer): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeUint8Array(e, header instanceof Uint8Array ? header : encodeHeader(header))
  encoding.writeVarUint(e, nonce.length + ciphertext.length)
  encoding.writeUint8Array(e, nonce)
  encoding.writeUint8Array(e, ciphertext)
  const signed = encoding.toUint8Array(e)
  return concatBytes(signed, signer.sign(concatBytes(ENVELOPE_CONTEXT, signed)))
}

/** Runs `fn` and returns the MindsyncError it throws; fails the test if it throws anything else or nothing. */
export function caught(fn: () => unknown): MindsyncError {
  try {
    fn()
  } catch (e) {
    if (e instanceof MindsyncError) return e
    throw new Error(`expected a MindsyncError, got ${String(e)}`, { cause: e })
  }
  throw new Error('expected a MindsyncError, but nothing was thrown')
}

/** Asserts that `fn` throws a MindsyncError with `code` (and `field`, when given). */
export function expectCode(fn: () => unknown, code: ErrorCode, field?: string): MindsyncError {
  const err = caught(fn)
  expect(err.code, err.message).toBe(code)
  if (field !== undefined) expect(err.field, err.message).toBe(field)
  return err
}

/** A copy of `bytes` with the byte at `i` XORed with `mask`. */
export function flipped(bytes: Uint8Array, i: number, mask = 0x01): Uint8Array {
  const copy = bytes.slice()
  copy[i] = (copy[i] as number) ^ mask
  return copy
}
