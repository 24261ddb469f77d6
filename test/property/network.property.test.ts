import fc from 'fast-check'
import { describe, it } from 'vitest'
import { networkCaseArb, runNetworkCase } from './networkCase.js'
import { propertySettings } from './settings.js'

describe('convergence over an unreliable but honest network', () => {
  it('[N1] drop, delay, duplicate, reorder, disconnect, relay restart on 2–4 devices: once healed, every device shows every note exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(networkCaseArb, (c) => runNetworkCase(c)),
      { ...propertySettings(200), timeout: 60_000 },
    )
  }, 600_000)
})
