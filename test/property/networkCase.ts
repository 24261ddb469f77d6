import { isMindsyncError } from '@mindsync/client'
import type { Rejection } from '@mindsync/client'
import fc from 'fast-check'
import { expect } from 'vitest'
import { Adversary } from '../harness/adversary.js'
import type { NetworkFaults } from '../harness/adversary.js'
import { admit, founder, notes, write } from '../harness/devices.js'
import type { DeviceOptions, TestDevice } from '../harness/devices.js'
import { explainOnFailure } from './settings.js'

// An unreliable but honest network: frames are lost (the connection breaks
// with them), delayed, duplicated, reordered; connections break; the relay
// restarts on the same storage. Once the network heals, every device must
// hold the same journal, with every note written exactly once.

type Step =
  | { type: 'write'; d: number }
  | { type: 'sync'; d: number }
  /** Two devices sync at the same time (one's pushes reach the other live). */
  | { type: 'sync2'; a: number; b: number }
  /** The device stays connected (reconnecting by itself) until the next toggle. */
  | { type: 'online'; d: number }
  | { type: 'restart' }
  | { type: 'cut' }

export interface NetworkCase {
  seed: number
  devices: number
  faults: NetworkFaults
  steps: Step[]
}

const faultsArb: fc.Arbitrary<NetworkFaults> = fc.record({
  drop: fc.constantFrom(0, 0.02, 0.05, 0.1),
  // A WebSocket delivers the frames of one connection once each and in order, and the protocol
  // relies on it: a caughtUp repeated or overtaken by later envelopes misstates the relay's head
  // (the device rightly calls that a rollback). So an honest network duplicates what devices
  // send (a resent frame), repeats and reorders envelopes inside the relay's messages and across
  // connections, and never repeats or reorders the relay's frames inside one connection.
  duplicate: fc.constantFrom(0, 0.05, 0.2),
  duplicateDirections: fc.constant('up' as const),
  maxDelay: fc.nat(3),
  reorder: fc.constant(false),
  reorderDirections: fc.constant('both' as const),
  disconnect: fc.constantFrom(0, 0.02, 0.05),
  shuffleItems: fc.boolean(),
  duplicateItems: fc.constantFrom(0, 0.1, 0.3),
})

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ type: fc.constant('write' as const), d: fc.nat(3) }), weight: 5 },
  { arbitrary: fc.record({ type: fc.constant('sync' as const), d: fc.nat(3) }), weight: 4 },
  { arbitrary: fc.record({ type: fc.constant('sync2' as const), a: fc.nat(3), b: fc.nat(3) }), weight: 2 },
  { arbitrary: fc.record({ type: fc.constant('online' as const), d: fc.nat(3) }), weight: 1 },
  { arbitrary: fc.constant({ type: 'restart' as const }), weight: 1 },
  { arbitrary: fc.constant({ type: 'cut' as const }), weight: 1 },
)

export const networkCaseArb: fc.Arbitrary<NetworkCase> = fc.record({
  seed: fc.integer(),
  devices: fc.integer({ min: 2, max: 4 }),
  faults: faultsArb,
  steps: fc.array(stepArb, { minLength: 3, maxLength: 20 }),
})

// Reconnect at once (a random backoff would make runs harder to replay).
const FAST_RECONNECT: DeviceOptions = { reconnect: { minMs: 0, maxMs: 0 } }
const HEAL_ROUNDS = 2

/** A sync that the network broke is fine; one that hangs is not. */
async function syncThrough(d: TestDevice, timeoutMs: number, log: (line: string) => void): Promise<void> {
  try {
    await d.client.syncOnce({ timeoutMs })
  } catch (e) {
    if (isMindsyncError(e) && e.code === 'E_UNREACHABLE' && !/did not finish within/.test(e.message)) return void log(`${d.name} sync failed: ${e.message}`)
    throw e
  }
}

export async function runNetworkCase(c: NetworkCase): Promise<void> {
  const adv = new Adversary(c.seed)
  const devices: TestDevice[] = []
  await explainOnFailure(adv, devices, () => networkCase(c, adv, devices))
}

async function networkCase(c: NetworkCase, adv: Adversary, devices: TestDevice[]): Promise<void> {
  devices.push(await founder('d0', adv.transport, FAST_RECONNECT))
  for (let i = 1; i < c.devices; i++) devices.push(await admit(devices[0]!, `d${i}`, adv.transport, undefined, FAST_RECONNECT))
  const rejections: (Rejection & { device: string })[] = []
  for (const d of devices) {
    d.client.on('rejected', (r) => rejections.push({ ...r, device: d.name }))
    d.client.on('status', (st) => adv.log(`${d.name} status ${st.status}${st.error ? ` (${st.error.message})` : ''}`))
  }
  const online = new Set<TestDevice>()
  const pick = (n: number): TestDevice => devices[n % devices.length]!
  let noteId = 0

  adv.faults = { ...c.faults }
  const log = (line: string): void => adv.log(line)
  const perform = async (s: Step): Promise<void> => {
    switch (s.type) {
      case 'write': {
        const d = pick(s.d)
        return write(d, `n${noteId++}-${d.name}`)
      }
      case 'sync':
        return syncThrough(pick(s.d), 10_000, log)
      case 'sync2':
        await Promise.all([syncThrough(pick(s.a), 10_000, log), syncThrough(pick(s.b), 10_000, log)])
        return
      case 'online': {
        const d = pick(s.d)
        if (online.delete(d)) return d.client.disconnect()
        online.add(d)
        d.client.connect()
        return
      }
      case 'restart':
        return adv.restart()
      case 'cut':
        return adv.cut()
    }
  }
  for (const s of c.steps) {
    adv.log(`step ${JSON.stringify(s)}`)
    await perform(s)
  }

  // The network heals: everyone goes through clean rounds of syncOnce.
  for (const d of online) await d.client.disconnect()
  adv.heal()
  const healFrom = rejections.length
  for (let round = 0; round < HEAL_ROUNDS; round++) {
    for (const d of devices) {
      adv.log(`heal ${round} ${d.name}`)
      await d.client.syncOnce({ timeoutMs: 10_000 })
    }
  }

  const written = devices.flatMap((d) => d.written).sort()
  const reference = devices[0]!.journal!.toJSON()
  for (const d of devices) {
    const shown = notes(d)
    // Every write applied exactly once: the same notes, none twice.
    expect(shown, `${d.name} shows every note written, once`).toEqual(written)
    expect(new Set(shown).size).toBe(shown.length)
    expect(d.journal!.toJSON(), `${d.name} holds the same journal as d0`).toEqual(reference)
    // An honest network is no reason to suspect the relay.
    expect(d.client.alerts(), `${d.name} raised alerts on an honest network`).toEqual([])
  }
  // Nothing an honest relay sent was refused, and once healed the relay refused nothing either.
  expect(rejections.filter((r) => r.origin === 'received'), 'envelopes refused on an honest network').toEqual([])
  expect(rejections.slice(healFrom), 'refusals after the network healed').toEqual([])
  for (const d of devices) await d.client.close()
}
