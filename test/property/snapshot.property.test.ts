import { EnvelopeKind, decodeEnvelope } from '@mindsync/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Adversary } from '../harness/adversary.js'
import { admit, founder, notes, write } from '../harness/devices.js'
import type { TestDevice } from '../harness/devices.js'
import { propertySettings, propertyTimeout } from './settings.js'

/**
 * [S2] Two devices write snapshots while a third writes entries, in any
 * interleaving (syncs one at a time or two at once; snapshots on demand and
 * when due): nothing is lost. Every device, and a device that joins at the
 * end and starts from the relay's newest snapshot, shows every note exactly
 * once, and the relay pruned only what snapshots cover.
 */
type Step =
  | { type: 'write'; n: number }
  | { type: 'snapshot'; d: 0 | 1 }
  | { type: 'sync'; d: 0 | 1 | 2 }
  | { type: 'sync2'; a: 0 | 1 | 2; b: 0 | 1 | 2 }

const device = fc.constantFrom<0 | 1 | 2>(0, 1, 2)
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('write' as const), n: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('snapshot' as const), d: fc.constantFrom<0 | 1>(0, 1) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('sync' as const), d: device }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('sync2' as const), a: device, b: device }) },
)
const caseArb = fc.record({ seed: fc.integer(), every: fc.integer({ min: 2, max: 8 }), steps: fc.array(stepArb, { minLength: 4, maxLength: 24 }) })

async function runCase(c: { seed: number; every: number; steps: Step[] }): Promise<void> {
  const adv = new Adversary(c.seed)
  const options = { snapshotEvery: { envelopes: c.every, bytes: 0 } }
  const a = await founder('a', adv.transport, options)
  const b = await admit(a, 'b', adv.transport, undefined, options)
  const writer = await admit(a, 'c', adv.transport, undefined, options)
  const devices: TestDevice[] = [a, b, writer]
  const written: string[] = []
  try {
    let n = 0
    for (const step of c.steps) {
      if (step.type === 'write') {
        for (let i = 0; i < step.n; i++) {
          const note = `n${n++}`
          written.push(note)
          await write(writer, note)
        }
      } else if (step.type === 'snapshot') {
        await devices[step.d]!.client.snapshot()
      } else if (step.type === 'sync') {
        await devices[step.d]!.client.syncOnce()
      } else {
        await Promise.all([devices[step.a]!.client.syncOnce(), devices[step.b]!.client.syncOnce()])
      }
    }
    for (let round = 0; round < 2; round++) for (const d of devices) await d.client.syncOnce()
    const late = await admit(a, 'late', adv.transport, undefined, options)
    devices.push(late)
    await late.client.syncOnce()
    const expected = [...written].sort()
    const vaultId = a.client.membership.requireState().vaultId
    const docId = a.doc!.docId
    const storage = adv.node().storage
    if ((await storage.docUsage(vaultId, docId)).envelopes < (await storage.headSeq(vaultId, docId))) coverage.pruned++
    if ((await late.store.listEnvelopes(late.doc!.key)).some((e) => decodeEnvelope(e.envelope).header.kind === EnvelopeKind.snapshot)) coverage.lateFromSnapshot++
    coverage.cases++
    for (const d of devices) {
      expect(notes(d), `${d.name} lost or repeated notes`).toEqual(expected)
      expect(d.client.alerts(), `${d.name} raised alerts`).toEqual([])
    }
  } finally {
    for (const d of devices) await d.client.close()
  }
}

const coverage = { cases: 0, pruned: 0, lateFromSnapshot: 0 }

describe('snapshots', () => {
  it('[S2] two devices snapshot concurrently while a third writes: every device, and one joining from the newest snapshot, shows every note once', async () => {
    await fc.assert(fc.asyncProperty(caseArb, runCase), { ...propertySettings(200), timeout: 60_000 })
  }, propertyTimeout(200, 2_000))

  it('[S2-coverage] the relay pruned, and the late device started from a snapshot, in most cases', () => {
    if (process.env.MINDSYNC_PROPERTY_STATS) console.log('snapshot coverage:', coverage)
    if (coverage.cases < 150) return // only meaningful after a full default run
    expect(coverage.pruned, JSON.stringify(coverage)).toBeGreaterThan(coverage.cases / 2)
    expect(coverage.lateFromSnapshot, JSON.stringify(coverage)).toBeGreaterThan(coverage.cases / 2)
  })
})
