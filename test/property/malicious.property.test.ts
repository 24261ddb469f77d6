import fc from 'fast-check'
import { afterAll, describe, it } from 'vitest'
import { backdateCaseArb, effectiveAttacks, maliciousCaseArb, runMaliciousCase } from './maliciousCase.js'
import { propertySettings } from './settings.js'

describe('a malicious relay', () => {
  afterAll(() => {
    if (process.env.MINDSYNC_PROPERTY_STATS) console.log('attacks that took effect:', effectiveAttacks)
  })

  it('[M1] flips, injects, replays, withholds, rolls back, forks: nothing forged, modified or misrouted is applied; every withholding, rollback and fork is raised', async () => {
    await fc.assert(
      fc.asyncProperty(maliciousCaseArb, (c) => runMaliciousCase(c)),
      { ...propertySettings(200), timeout: 60_000 },
    )
  }, 900_000)

  it('[M2] a removed device whose keys were stolen cannot slip in envelopes dated to the last epoch it belonged to', async () => {
    await fc.assert(
      fc.asyncProperty(backdateCaseArb, (c) => runMaliciousCase(c)),
      { ...propertySettings(200), timeout: 60_000 },
    )
  }, 900_000)
})
