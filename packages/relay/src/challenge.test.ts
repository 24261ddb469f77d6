import { describe, expect, it } from 'vitest'
import { CHALLENGE_BYTES, createChallenges } from './challenge.js'

describe('challenges', () => {
  it('are 40 bytes: big-endian time, random, MAC', () => {
    let t = 1_700_000_000_123
    const c = createChallenges({ now: () => t })
    const a = c.issue()
    expect(a.length).toBe(CHALLENGE_BYTES)
    expect(Number(new DataView(a.buffer).getBigUint64(0))).toBe(t)
    t += 1
    expect(c.issue().subarray(8, 24)).not.toEqual(a.subarray(8, 24))
  })

  it('are accepted once, while fresh, and only from the issuing process', () => {
    let t = 1_000_000
    const c = createChallenges({ now: () => t, ttlMs: 60_000 })
    const a = c.issue()
    expect(c.check(a)).toBeUndefined()
    c.use(a)
    expect(c.check(a)).toBe('reused')

    const b = c.issue()
    t += 60_001
    expect(c.check(b)).toBe('expired')

    const other = createChallenges({ now: () => t }).issue()
    expect(c.check(other)).toBe('forged')
    const tampered = c.issue()
    tampered[10] = (tampered[10] as number) ^ 1
    expect(c.check(tampered)).toBe('forged')
    expect(c.check(new Uint8Array(12))).toBe('malformed')
  })

  it('forgets used challenges once they expire, and refuses when the set is full', () => {
    let t = 5_000_000
    const c = createChallenges({ now: () => t, ttlMs: 1_000, maxRemembered: 2 })
    for (let i = 0; i < 2; i++) {
      const x = c.issue()
      expect(c.check(x)).toBeUndefined()
      c.use(x)
    }
    expect(c.check(c.issue())).toBe('busy')
    t += 2_500
    const y = c.issue()
    expect(c.check(y)).toBeUndefined()
    expect(c.remembered()).toBe(0)
  })
})
