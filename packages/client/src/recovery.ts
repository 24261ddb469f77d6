import { argon2idAsync, constantTimeEqual, randomBytes, sha256, utf8 } from '@mindsync/crypto'
import { MindsyncError, concatBytes } from '@mindsync/protocol'
import { identityFromSecrets } from './identity.js'
import type { DeviceIdentity } from './identity.js'

// Crockford's base32: no I, L, O, U, so a code read aloud or retyped survives.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const SECRET_BYTES = 20
const CHECK_BYTES = 2

/**
 * Argon2id cost for turning a recovery code into keys. The code already
 * holds 160 random bits, so the cost only slows an attacker further; the
 * salt is fixed because a brand-new device knows nothing but the code.
 */
const KDF = { t: 3, m: 32 * 1024, p: 1, dkLen: 64 } as const
const SALT = utf8.encode('mindsync/v1/recovery-code')

function toBase32(bytes: Uint8Array): string {
  let bits = 0
  let value = 0
  let out = ''
  for (const b of bytes) {
    value = (value << 8) | b
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  return out
}

function fromBase32(text: string): Uint8Array {
  const out: number[] = []
  let bits = 0
  let value = 0
  for (const ch of text) {
    const i = ALPHABET.indexOf(ch)
    if (i < 0) throw new MindsyncError('E_INVALID_INPUT', `recovery code: "${ch}" is not one of its characters`, 'code')
    value = (value << 5) | i
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255)
      bits -= 8
    }
  }
  return new Uint8Array(out)
}

/** A new recovery code: 160 random bits and a 16-bit checksum, in groups of four characters. */
export function newRecoveryCode(): string {
  const secret = randomBytes(SECRET_BYTES)
  const text = toBase32(concatBytes(secret, sha256(secret).subarray(0, CHECK_BYTES)))
  return text.match(/.{1,4}/g)!.join('-')
}

/** The secret in a recovery code; tolerant of case, spaces, dashes and look-alike characters. */
export function parseRecoveryCode(code: string): Uint8Array {
  const clean = code.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1')
  const bytes = fromBase32(clean)
  if (bytes.length < SECRET_BYTES + CHECK_BYTES) throw new MindsyncError('E_INVALID_INPUT', 'recovery code is too short (was it copied whole?)', 'code')
  const secret = bytes.subarray(0, SECRET_BYTES)
  if (!constantTimeEqual(sha256(secret).subarray(0, CHECK_BYTES), bytes.subarray(SECRET_BYTES, SECRET_BYTES + CHECK_BYTES))) {
    throw new MindsyncError('E_INVALID_INPUT', 'recovery code checksum does not match (mistyped?)', 'code')
  }
  return secret
}

/** The recovery member's keys, derived from the code with Argon2id; the code itself never leaves the device. */
export async function recoveryIdentity(code: string): Promise<DeviceIdentity> {
  const okm = await argon2idAsync(parseRecoveryCode(code), SALT, KDF)
  return identityFromSecrets(okm.slice(0, 32), okm.slice(32, 64), 'recovery code')
}
