import { isMindsyncError } from '@mindsync/client'
import type { Alert } from '@mindsync/client'
import { fromHex, toHex } from '@mindsync/crypto'
import fc from 'fast-check'
import { expect } from 'vitest'
import { Adversary } from '../harness/adversary.js'
import type { RelayNode, WithholdRule } from '../harness/adversary.js'
import { admit, founder, notes, write } from '../harness/devices.js'
import type { TestDevice } from '../harness/devices.js'
import { Forger, INJECTED, ownHead } from '../harness/forge.js'
import type { ChainHead, Injection } from '../harness/forge.js'
import { explainOnFailure } from './settings.js'

// A malicious relay: it flips bytes, injects envelopes (a stranger's, forged,
// a removed device's, another doc's or vault's), replays frames, hides
// checkpoints, and mounts one of three attacks on the histories it serves:
// withholding chosen envelopes from chosen devices, rolling chosen devices
// back to an old copy of its storage, or forking (two storages, devices
// split between them, later meeting on one). The property: nothing forged,
// modified or misrouted is ever applied, and every attack that took effect is
// raised as an alert of its kind by some device once the relay lets
// checkpoints through and every device has synced and checkpointed twice.

type Step = { type: 'write'; d: number } | { type: 'sync'; d: number } | { type: 'sync2'; a: number; b: number } | { type: 'checkpoint'; d: number }

export type Attack =
  | { kind: 'none' }
  /**
   * From `at`, envelopes of device `author` with seq in [next + offset, next + offset + length) (length 0: every later one) are kept from `victims`.
   * With `primed`, right away the author writes and syncs, then the victims sync, so something surely is kept from them.
   */
  | { kind: 'withhold'; at: number; author: number; victims: number[]; offset: number; length: number; primed: boolean }
  /**
   * The relay's storage is copied at step `snapshotAt`; from `switchAt` on, `victims` are served from that copy.
   * With `primed`, just before the switch one device writes and the victims sync, so they surely saw more than the copy holds.
   */
  | { kind: 'rollback'; snapshotAt: number; switchAt: number; victims: number[]; primed: boolean }
  /**
   * At `splitAt` the storage is copied and devices `sideB` move to the copy; at `meetAt` everyone meets on side `meetOn`.
   * With `rotate`, each side opens a new epoch while split; with `primed`, right after the split a device of each side writes and every device syncs.
   */
  | { kind: 'fork'; splitAt: number; meetAt: number; sideB: number[]; meetOn: 'A' | 'B'; rotate: boolean; primed: boolean }

export interface Noise {
  flip: number
  inject: number
  injections: Injection[]
  replay: number
  replayUp: number
  hideCheckpoints: boolean
  /** Relay→device frames repeated or reordered: a malicious relay may do both. */
  duplicate: number
  reorder: boolean
  maxDelay: number
}

export interface MaliciousCase {
  seed: number
  devices: number
  /** One more device writes, is removed, and its keys are stolen (for injections). */
  removed: boolean
  attack: Attack
  noise: Noise
  steps: Step[]
}

const MAX_STEPS = 10

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ type: fc.constant('write' as const), d: fc.nat(3) }), weight: 4 },
  { arbitrary: fc.record({ type: fc.constant('sync' as const), d: fc.nat(3) }), weight: 4 },
  { arbitrary: fc.record({ type: fc.constant('sync2' as const), a: fc.nat(3), b: fc.nat(3) }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('checkpoint' as const), d: fc.nat(3) }), weight: 1 },
)

const subset = fc.uniqueArray(fc.nat(3), { minLength: 1, maxLength: 3 })

const attackArb: fc.Arbitrary<Attack> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 1 },
  {
    arbitrary: fc.record({ kind: fc.constant('withhold' as const), at: fc.nat(MAX_STEPS - 2), author: fc.nat(3), victims: subset, offset: fc.nat(2), length: fc.nat(3), primed: fc.boolean() }),
    weight: 3,
  },
  {
    arbitrary: fc
      .record({ kind: fc.constant('rollback' as const), snapshotAt: fc.nat(MAX_STEPS - 3), gap: fc.integer({ min: 1, max: 5 }), victims: subset, primed: fc.boolean() })
      .map(({ gap, ...a }) => ({ ...a, switchAt: a.snapshotAt + gap })),
    weight: 3,
  },
  {
    arbitrary: fc
      .record({ kind: fc.constant('fork' as const), splitAt: fc.nat(MAX_STEPS - 3), gap: fc.integer({ min: 1, max: 6 }), sideB: subset, meetOn: fc.constantFrom('A' as const, 'B' as const), rotate: fc.boolean(), primed: fc.boolean() })
      .map(({ gap, ...a }) => ({ ...a, meetAt: a.splitAt + gap })),
    weight: 3,
  },
)

const noiseArb = (injections: fc.Arbitrary<Injection[]>): fc.Arbitrary<Noise> =>
  fc.record({
    flip: fc.constantFrom(0, 0, 0.1, 0.3),
    inject: fc.constantFrom(0, 0.3, 0.7),
    injections,
    replay: fc.constantFrom(0, 0.1),
    replayUp: fc.constantFrom(0, 0.1),
    hideCheckpoints: fc.boolean(),
    duplicate: fc.constantFrom(0, 0, 0.1),
    reorder: fc.boolean(),
    maxDelay: fc.nat(2),
  })

/** Every injection the engine must refuse today (a backdated one from a removed device is the separate property [M2]). */
const REFUSED: Injection[] = ['non-member', 'forged', 'forged-tagged', 'revoked', 'equivocating', 'misrouted-doc', 'misrouted-vault']

/**
 * MINDSYNC_ATTACKS narrows the attacks, e.g. `none,withhold` or `fork-docs`
 * (a fork without membership changes): none, withhold, rollback, fork, fork-docs, fork-ops.
 */
function chosenAttacks(): fc.Arbitrary<Attack> {
  const wanted = process.env.MINDSYNC_ATTACKS?.split(',').map((s) => s.trim())
  if (!wanted) return attackArb
  const known = ['none', 'withhold', 'rollback', 'fork', 'fork-docs', 'fork-ops']
  for (const w of wanted) if (!known.includes(w)) throw new Error(`MINDSYNC_ATTACKS: unknown attack ${w} (known: ${known.join(', ')})`)
  return attackArb.filter(
    (a) => wanted.includes(a.kind) || (a.kind === 'fork' && wanted.includes(a.rotate ? 'fork-ops' : 'fork-docs')),
  )
}

export const maliciousCaseArb: fc.Arbitrary<MaliciousCase> = fc.record({
  seed: fc.integer(),
  devices: fc.integer({ min: 2, max: 4 }),
  removed: fc.boolean(),
  attack: chosenAttacks(),
  noise: noiseArb(fc.subarray(REFUSED, { minLength: 1 })),
  steps: fc.array(stepArb, { minLength: 3, maxLength: MAX_STEPS }),
})

/** Only a removed device's backdated envelopes, and no attack on histories. */
export const backdateCaseArb: fc.Arbitrary<MaliciousCase> = fc.record({
  seed: fc.integer(),
  devices: fc.integer({ min: 2, max: 3 }),
  removed: fc.constant(true),
  attack: fc.constant({ kind: 'none' as const }),
  noise: noiseArb(fc.constant(['backdated' as Injection])).map((n) => ({ ...n, inject: 0.7 })),
  steps: fc.array(stepArb, { minLength: 2, maxLength: 6 }),
})

/** How often each attack took effect over a run (printed after the property; a property whose attacks never land proves nothing). */
export const effectiveAttacks = { withhold: 0, rollback: 0, rollbackSeenOtherwise: 0, fork: 0, forkOps: 0, equivocation: 0, injectedItems: 0, flippedItems: 0, cases: 0 }

const SYNC_TIMEOUT_MS = 3_000

/** A sync against a hostile relay may fail or stall; neither may break the device. */
async function syncHostile(d: TestDevice, adv: Adversary): Promise<void> {
  try {
    await d.client.syncOnce({ timeoutMs: SYNC_TIMEOUT_MS })
  } catch (e) {
    if (!isMindsyncError(e)) throw e
    adv.log(`${d.name} sync failed: ${e.code} ${e.message}`)
  }
}

async function checkpointHostile(d: TestDevice, adv: Adversary): Promise<void> {
  try {
    await d.client.checkpoint()
  } catch (e) {
    if (!isMindsyncError(e)) throw e
    adv.log(`${d.name} checkpoint failed: ${e.code} ${e.message}`)
  }
}

/** Envelopes (author:seq) a device holds that came through a relay: received ones, and its own once acknowledged. */
async function relayed(d: TestDevice): Promise<{ author: string; seq: number; serverSeq: number }[]> {
  return (await d.store.listEnvelopes(d.doc!.key)).filter((e) => e.serverSeq !== null).map((e) => ({ author: e.author, seq: e.seq, serverSeq: e.serverSeq as number }))
}

/** What `node` lacks of what `d` was shown: envelopes, and membership ops (extra ones, or different ones at the same index). */
async function lacks(node: RelayNode, d: TestDevice): Promise<{ envelopes: string[]; lost: { author: string; seq: number; serverSeq: number }[]; extraOps: number; differentOps: number[] }> {
  const state = d.client.membership.requireState()
  const docId = d.doc!.docId
  const envelopes: string[] = []
  const lost: { author: string; seq: number; serverSeq: number }[] = []
  for (const e of await relayed(d)) {
    if (!(await node.storage.findEnvelope(state.vaultId, docId, fromHex(e.author), e.seq))) {
      envelopes.push(`${e.author.slice(0, 6)}#${e.seq}`)
      lost.push(e)
    }
  }
  const ops = (await node.storage.loadOps(state.vaultId)) ?? []
  const mine = d.client.membership.ops
  const differentOps: number[] = []
  for (let i = 0; i < Math.min(ops.length, mine.length); i++) if (toHex(ops[i]!) !== toHex(mine[i]!.bytes)) differentOps.push(i)
  return { envelopes, lost, extraOps: Math.max(0, mine.length - ops.length), differentOps }
}

export async function runMaliciousCase(c: MaliciousCase): Promise<void> {
  const adv = new Adversary(c.seed)
  const devices: TestDevice[] = []
  await explainOnFailure(adv, devices, () => maliciousCase(c, adv, devices))
}

async function maliciousCase(c: MaliciousCase, adv: Adversary, devices: TestDevice[]): Promise<void> {
  effectiveAttacks.cases++
  // ---- set-up, on a clean network --------------------------------------
  devices.push(await founder('d0', adv.transport))
  for (let i = 1; i < c.devices; i++) devices.push(await admit(devices[0]!, `d${i}`, adv.transport))
  const legit = new Set<string>()
  let noteId = 0
  const writeNote = async (d: TestDevice): Promise<void> => {
    const note = `n${noteId++}-${d.name}`
    legit.add(note)
    await write(d, note)
  }
  let removed: TestDevice | undefined
  let forger: Forger
  if (c.removed) {
    const r = await admit(devices[0]!, 'r', adv.transport)
    await writeNote(r)
    await r.client.syncOnce()
    const lastEpoch = r.client.membership.requireState().epoch
    const head = await ownHead(r)
    await devices[0]!.client.removeDevice(r.client.deviceId)
    const removalEpoch = devices[0]!.client.membership.requireState().epoch
    removed = r
    forger = new Forger({ member: devices[0]!, removed: { device: r, head, lastEpoch, removalEpoch } })
  } else {
    forger = new Forger({ member: devices[0]! })
  }
  for (const d of devices) {
    await writeNote(d)
    await d.client.syncOnce()
  }
  const all = removed ? [...devices, removed] : devices
  const pick = (n: number): TestDevice => devices[n % devices.length]!
  const ids = (list: number[]): TestDevice[] => [...new Set(list.map(pick))]

  // ---- the relay turns hostile -------------------------------------------
  const kinds = c.noise.injections.filter((k) => forger.kinds().includes(k))
  const memberHeads = new Map<string, ChainHead>()
  for (const d of devices) memberHeads.set(d.client.deviceId, await ownHead(d))
  // Refusals of received envelopes, by device: an equivocation among them must also be raised as an alert.
  const refusals: string[] = []
  for (const d of all) d.client.on('rejected', (r) => r.origin === 'received' && refusals.push(`${d.name}:${r.code}:${r.message.slice(0, 80)}`))
  adv.malice = {
    withhold: [],
    hideCheckpoints: c.noise.hideCheckpoints,
    flip: c.noise.flip,
    inject: kinds.length > 0 ? c.noise.inject : 0,
    injector: ({ rng }) => {
      const kind = rng.pick(kinds)
      const env = forger.envelope(kind, memberHeads.get(devices[0]!.client.deviceId)!)
      if (env) adv.log(`inject ${kind}`)
      return env ? [env] : []
    },
    replay: c.noise.replay,
    replayUp: c.noise.replayUp,
  }
  adv.faults = { ...adv.faults, duplicate: c.noise.duplicate, duplicateDirections: 'down', reorder: c.noise.reorder, reorderDirections: 'down', maxDelay: c.noise.maxDelay }

  const a = c.attack
  let forkSides: { a: TestDevice[]; b: TestDevice[] } | undefined
  const rolledBack: string[] = []
  // Per victim, what the old copy lacked: a replay of the victim's own push frames may put all of it back at the very serverSeqs it had.
  const rollbackLosses: { victim: TestDevice; lost: { author: string; seq: number; serverSeq: number }[] }[] = []
  const rolledBackAuthors = new Set<string>()
  const forkLost: string[] = []
  let forkedOps = false
  const attackAt = async (i: number): Promise<void> => {
    if (a.kind === 'withhold' && a.at === i) {
      const author = pick(a.author)
      const victims = ids(a.victims).filter((v) => v !== author)
      if (victims.length === 0) victims.push(pick(a.author + 1))
      const next = (await ownHead(author)).seq + 1
      const rule: WithholdRule = {
        victims: new Set(victims.map((v) => v.client.deviceId)),
        author: author.client.deviceId,
        from: next + a.offset,
        to: a.length === 0 ? Number.MAX_SAFE_INTEGER : next + a.offset + a.length - 1,
      }
      adv.malice.withhold.push(rule)
      adv.log(`attack: withhold ${author.name} seq ${rule.from}..${a.length === 0 ? '' : rule.to} from ${victims.map((v) => v.name).join(',')}`)
      if (a.primed) {
        for (let k = 0; k <= a.offset; k++) await writeNote(author)
        await syncHostile(author, adv)
        for (const v of victims) await syncHostile(v, adv)
      }
    }
    if (a.kind === 'rollback') {
      if (a.snapshotAt === i) await adv.snapshot('old')
      if (a.switchAt === i) {
        if (a.primed) {
          await writeNote(pick(a.snapshotAt))
          await syncHostile(pick(a.snapshotAt), adv)
          for (const v of ids(a.victims)) await syncHostile(v, adv)
        }
        // What the victims saw that the old copy lacks, as they are moved to it (a device may repair the copy afterwards by pushing its own envelopes again: the rollback happened all the same).
        const old = adv.node('old')
        for (const v of ids(a.victims)) {
          const l = await lacks(old, v)
          if (l.envelopes.length > 0 || l.extraOps > 0) rolledBack.push(`${v.name} saw ${l.envelopes.join(',')}${l.extraOps ? ` and ${l.extraOps} more ops` : ''}`)
          if (l.envelopes.length > 0 && l.extraOps === 0) rollbackLosses.push({ victim: v, lost: l.lost })
          for (const e of l.lost) rolledBackAuthors.add(e.author)
        }
        adv.route(ids(a.victims).map((v) => v.client.deviceId), 'old')
        adv.log(`attack: roll back ${ids(a.victims).map((v) => v.name).join(',')}`)
      }
    }
    if (a.kind === 'fork') {
      if (a.splitAt === i) {
        let b = ids(a.sideB)
        if (b.length === devices.length) b = b.slice(1)
        forkSides = { b, a: devices.filter((d) => !b.includes(d)) }
        await adv.snapshot('B')
        adv.route(b.map((d) => d.client.deviceId), 'B')
        adv.log(`attack: fork, side B = ${b.map((d) => d.name).join(',')}`)
        if (a.rotate) {
          // Each side opens a new epoch of its own: two different ops at the same index.
          for (const side of [forkSides.a, forkSides.b]) {
            try {
              await side[0]!.client.rotate()
            } catch (e) {
              if (!isMindsyncError(e)) throw e
              adv.log(`rotate on a fork side failed: ${e.code} ${e.message}`)
            }
          }
        }
        if (a.primed) {
          for (const side of [forkSides.a, forkSides.b]) await writeNote(side[side.length - 1]!)
          for (const d of devices) await syncHostile(d, adv)
        }
      }
      if (a.meetAt === i && forkSides) {
        // What the devices of the other side saw that the side they meet on lacks, as they arrive.
        const meet = adv.node(a.meetOn === 'A' ? 'main' : 'B')
        for (const d of a.meetOn === 'A' ? forkSides.b : forkSides.a) {
          const l = await lacks(meet, d)
          if (l.differentOps.length > 0) forkedOps = true
          if (l.envelopes.length > 0 || l.extraOps > 0 || l.differentOps.length > 0) {
            forkLost.push(`${d.name} saw ${[...l.envelopes, ...(l.extraOps ? [`${l.extraOps} more ops`] : []), ...l.differentOps.map((x) => `another op ${x}`)].join(',')}`)
          }
        }
        adv.route(
          devices.map((d) => d.client.deviceId),
          a.meetOn === 'A' ? 'main' : 'B',
        )
        adv.log(`attack: fork sides meet on ${a.meetOn}`)
      }
    }
  }

  for (let i = 0; i < c.steps.length; i++) {
    await attackAt(i)
    const s = c.steps[i]!
    adv.log(`step ${JSON.stringify(s)}`)
    switch (s.type) {
      case 'write':
        if (pick(s.d).client.membership.self()) await writeNote(pick(s.d))
        break
      case 'sync':
        await syncHostile(pick(s.d), adv)
        break
      case 'sync2':
        await Promise.all([syncHostile(pick(s.a), adv), syncHostile(pick(s.b), adv)])
        break
      case 'checkpoint':
        await checkpointHostile(pick(s.d), adv)
        break
    }
    for (const d of devices) memberHeads.set(d.client.deviceId, await ownHead(d))
  }
  // Attacks scheduled past the last step still happen, in order (a fork always meets before the devices compare).
  const lastEvent = a.kind === 'withhold' ? a.at : a.kind === 'rollback' ? a.switchAt : a.kind === 'fork' ? a.meetAt : 0
  for (let i = c.steps.length; i <= lastEvent; i++) await attackAt(i)

  // ---- devices can compare: checkpoints pass, every device syncs and checkpoints twice ----
  // The relay goes on hiding what it hid (and serving rolled-back or forked devices as before), nothing more.
  adv.freezeWithholding()
  const withheldBefore = new Set(adv.stats.withheld)
  adv.malice = { ...adv.malice, hideCheckpoints: false, flip: 0, inject: 0, replay: 0, replayUp: 0 }
  adv.faults = { ...adv.faults, duplicate: 0, reorder: false, maxDelay: 0 }
  // (A checkpoint sealed while offline leaves with the next sync: seal, then sync.)
  for (let round = 0; round < 2; round++) {
    for (const d of devices) {
      adv.log(`final ${round} ${d.name}`)
      await checkpointHostile(d, adv)
      await syncHostile(d, adv)
    }
  }

  // ---- nothing forged, modified or misrouted was applied ----------------
  for (const d of all) {
    const shown = notes(d)
    expect(
      shown.filter((n) => n.startsWith(INJECTED)),
      `${d.name} applied injected content`,
    ).toEqual([])
    expect(
      shown.filter((n) => !legit.has(n)),
      `${d.name} shows notes nobody wrote`,
    ).toEqual([])
  }
  effectiveAttacks.injectedItems += adv.stats.injected
  effectiveAttacks.flippedItems += adv.stats.flipped

  // ---- every attack that took effect was noticed -------------------------
  const alerts = devices.flatMap((d) => d.client.alerts().map((al) => ({ device: d.name, ...al })))
  const raised = (...kinds: Alert['kind'][]): boolean => alerts.some((al) => kinds.includes(al.kind))
  const shownAlerts = (): string => JSON.stringify(alerts.map((al) => `${al.device}: ${al.kind}: ${al.message}`), null, 1)

  if (a.kind === 'withhold') {
    // Withheld: an envelope the relay kept from a victim before the devices could compare, that the victim still lacks.
    const missing: string[] = []
    for (const key of withheldBefore) {
      const [victim, author, seq] = key.split(':') as [string, string, string]
      const v = devices.find((d) => d.client.deviceId === victim)!
      const held = (await v.store.listEnvelopes(v.doc!.key)).some((e) => e.author === author && e.seq === Number(seq))
      if (!held) missing.push(`${v.name} lacks ${devices.find((d) => d.client.deviceId === author)?.name ?? author.slice(0, 6)}#${seq}`)
    }
    if (missing.length > 0) {
      effectiveAttacks.withhold++
      expect(raised('withheld'), `withholding took effect (${missing.join(', ')}) but no device raised 'withheld'; alerts: ${shownAlerts()}`).toBe(true)
    }
  }

  if (refusals.some((r) => r.includes(':E_EQUIVOCATION:'))) {
    // Two envelopes signed by one author with one seq are evidence, whichever arrived first.
    effectiveAttacks.equivocation++
    expect(raised('equivocation'), `a device refused an equivocating envelope but raised no 'equivocation'; alerts: ${shownAlerts()}; refusals: ${refusals.join(' | ')}`).toBe(true)
  }

  // A rollback that the replayed frames undid exactly (every lost envelope back at the serverSeq the victim
  // holds, no op lost) left the victim a state identical to the honest relay's: nothing to detect.
  if (rolledBack.length > 0 && rollbackLosses.length === rolledBack.length) {
    const old = adv.node('old')
    let undone = true
    for (const { victim, lost } of rollbackLosses) {
      const state = victim.client.membership.requireState()
      for (const e of lost) {
        const now = await old.storage.findEnvelope(state.vaultId, victim.doc!.docId, fromHex(e.author), e.seq)
        if (now?.serverSeq !== e.serverSeq) undone = false
      }
    }
    if (undone) {
      adv.log(`rollback undone exactly by replayed frames: ${rolledBack.join('; ')}`)
      rolledBack.length = 0
    }
  }
  if (rolledBack.length > 0) {
    effectiveAttacks.rollback++
    // A rolled-back copy that numbers new entries in the places it lost before a victim catches up
    // with it keeps its head where the victim saw it, so the head check cannot fire. What the
    // devices can still see: another envelope at a place the relay gave one of their own (the two
    // histories of a fork), or envelopes of a lost author that the relay no longer serves although
    // it had stored them or later ones (withheld: an honest relay stores an author's chain in order).
    const reused = alerts.some((al) => al.kind === 'fork' && 'ownSeq' in al.evidence)
    const lostNamed = alerts.some((al) => al.kind === 'withheld' && al.author !== undefined && rolledBackAuthors.has(al.author))
    if (!raised('rollback')) effectiveAttacks.rollbackSeenOtherwise++
    expect(
      raised('rollback') || reused || lostNamed,
      `rollback took effect (${rolledBack.join('; ')}) but no device raised 'rollback', a 'fork' over one of its own acknowledged places, or 'withheld' for a lost author; alerts: ${shownAlerts()}`,
    ).toBe(true)
  }

  if (forkLost.length > 0) {
    effectiveAttacks.fork++
    if (forkedOps) {
      effectiveAttacks.forkOps++
      expect(raised('fork'), `the membership log forked (${forkLost.join('; ')}) but no device raised 'fork'; alerts: ${shownAlerts()}`).toBe(true)
    } else {
      // Per-author chains cannot diverge while authors are honest: a doc fork that meets on one
      // side shows the other side's devices a relay without what it acknowledged to them.
      expect(raised('fork', 'rollback'), `the relay forked (${forkLost.join('; ')}) but no device raised 'fork' or 'rollback'; alerts: ${shownAlerts()}`).toBe(true)
    }
  }

  for (const d of all) await d.client.close()
}
