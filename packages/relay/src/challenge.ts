import { constantTimeEqual, hmacSha256, randomBytes } from '@mindsync/crypto'

/** challenge := u64be(issuedAtMs) • random(16) • HMAC-SHA256(secret, first 24 bytes)[0..16] */
export const CHALLENGE_BYTES = 40
const BODY_BYTES = 24
const MAC_BYTES = 16

export type ChallengeProblem = 'malformed' | 'forged' | 'expired' | 'reused' | 'busy'

/** Why a challenge was refused, in words a person can act on. */
export const CHALLENGE_PROBLEMS: Record<ChallengeProblem, string> = {
  malformed: `challenge must be ${CHALLENGE_BYTES} bytes`,
  forged: 'challenge was not issued by this relay (or the relay restarted); fetch a new one',
  expired: 'challenge expired; fetch a new one',
  reused: 'challenge was already used; fetch a new one',
  busy: 'relay is busy authenticating other devices; retry in a moment',
}

export interface ChallengeOptions {
  /** Clock in milliseconds. */
  now: () => number
  /** How long a challenge stays valid (default 60 s). */
  ttlMs?: number
  /** Most used challenges remembered at once; beyond it authentication is refused as busy (default 100,000). */
  maxRemembered?: number
}

/** Issues stateless challenges and accepts each one at most once while it is valid. */
export interface Challenges {
  issue(): Uint8Array
  /** Checks a challenge without using it up: undefined when valid, else the problem. */
  check(challenge: Uint8Array): ChallengeProblem | undefined
  /** Marks a checked challenge as used. */
  use(challenge: Uint8Array): void
  /** Number of used challenges remembered (for tests and metrics). */
  remembered(): number
}

/**
 * Challenges need no table of issued values: the MAC under a per-process
 * secret proves the relay issued them, the timestamp bounds their life, and
 * only the used ones are remembered, until they expire.
 */
export function createChallenges(options: ChallengeOptions): Challenges {
  const { now } = options
  const ttlMs = options.ttlMs ?? 60_000
  const maxRemembered = options.maxRemembered ?? 100_000
  const secret = randomBytes(32)
  /** hex of the random part → expiry time */
  const used = new Map<string, number>()
  let lastPurge = now()

  const issuedAt = (c: Uint8Array): number => Number(new DataView(c.buffer, c.byteOffset, 8).getBigUint64(0))
  const key = (c: Uint8Array): string => Buffer.from(c.buffer, c.byteOffset + 8, 16).toString('hex')

  const purge = (t: number): void => {
    lastPurge = t
    for (const [k, expires] of used) if (expires < t) used.delete(k)
  }

  return {
    issue() {
      const out = new Uint8Array(CHALLENGE_BYTES)
      new DataView(out.buffer).setBigUint64(0, BigInt(Math.floor(now())))
      out.set(randomBytes(16), 8)
      out.set(hmacSha256(secret, out.subarray(0, BODY_BYTES)).subarray(0, MAC_BYTES), BODY_BYTES)
      return out
    },

    check(c) {
      if (c.length !== CHALLENGE_BYTES) return 'malformed'
      const mac = hmacSha256(secret, c.subarray(0, BODY_BYTES)).subarray(0, MAC_BYTES)
      if (!constantTimeEqual(mac, c.subarray(BODY_BYTES))) return 'forged'
      const t = now()
      const age = t - issuedAt(c)
      // A little slack for a clock that stepped back since the challenge was issued.
      if (age > ttlMs || age < -5_000) return 'expired'
      // At most one sweep a second, so a full set cannot make every attempt pay for a sweep.
      if (t - lastPurge >= 1_000) purge(t)
      if (used.has(key(c))) return 'reused'
      if (used.size >= maxRemembered) return 'busy'
      return undefined
    },

    use(c) {
      used.set(key(c), issuedAt(c) + ttlMs)
    },

    remembered() {
      return used.size
    },
  }
}
