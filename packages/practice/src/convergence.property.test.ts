import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { type Journal, createJournal } from './index.js'

// More cases: PRACTICE_FC_RUNS=2000 npx vitest run packages/practice
const RUNS = Number(process.env.PRACTICE_FC_RUNS ?? 100)
const BASE = Date.UTC(2024, 4, 1)
const REMOTE = Symbol('remote')

const note = fc.string({ maxLength: 12 })
const when = fc.integer({ min: -30 * 86_400_000, max: 86_400_000 }).map((ms) => new Date(BASE + ms).toISOString())
const op = fc.oneof(
  fc.record({
    kind: fc.constant('session' as const),
    r: fc.nat(),
    minutes: fc.integer({ min: 1, max: 144_000 }).map((n) => n / 100),
    technique: fc.constantFrom('breath', 'metta', ' body scan ', 'zen'),
    note,
    start: when,
  }),
  fc.record({
    kind: fc.constant('checkin' as const),
    r: fc.nat(),
    mood: fc.integer({ min: 1, max: 5 }),
    stress: fc.option(fc.integer({ min: 1, max: 5 })),
    at: when,
  }),
  fc.record({
    kind: fc.constant('edit' as const),
    r: fc.nat(),
    pick: fc.nat(),
    patch: fc.record({ minutes: fc.integer({ min: 1, max: 1440 }), note, start: when }, { requiredKeys: [] }),
  }),
  fc.record({ kind: fc.constant('editCheckin' as const), r: fc.nat(), pick: fc.nat(), mood: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('remove' as const), r: fc.nat(), pick: fc.nat() }),
  fc.record({ kind: fc.constant('deliver' as const), r: fc.nat(), pick: fc.nat() }),
)

type Op = typeof op extends fc.Arbitrary<infer T> ? T : never

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items]
  let s = seed >>> 0
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    const j = s % (i + 1)
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

function apply(j: Journal, o: Op, log: readonly Uint8Array[]): void {
  const at = <T>(list: readonly T[]): T | undefined => list['pick' in o ? o.pick % Math.max(list.length, 1) : 0]
  switch (o.kind) {
    case 'session':
      j.logSession({ minutes: o.minutes, technique: o.technique, note: o.note, start: o.start })
      return
    case 'checkin':
      j.logCheckin({ mood: o.mood, stress: o.stress, at: o.at })
      return
    case 'edit': {
      const s = at(j.sessions())
      if (s) j.editSession(s.id, o.patch)
      return
    }
    case 'editCheckin': {
      const c = at(j.checkins())
      if (c) j.editCheckin(c.id, { mood: o.mood })
      return
    }
    case 'remove': {
      const e = at(j.entries())
      if (e) j.remove(e.id)
      return
    }
    case 'deliver': {
      const u = at(log)
      if (u) Y.applyUpdate(j.doc, u, REMOTE)
    }
  }
}

describe('convergence', () => {
  it('replicas exchanging updates in any order end with identical toJSON', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 3 }), fc.array(op, { maxLength: 40 }), fc.integer(), (count, ops, seed) => {
        let tick = 0
        const now = () => new Date(BASE + 1000 * tick++)
        const log: Uint8Array[] = []
        const journals = Array.from({ length: count }, (_, i) => {
          const j = createJournal(new Y.Doc(), { device: `device-${i}`, now })
          j.doc.on('update', (u: Uint8Array, origin: unknown) => {
            if (origin !== REMOTE) log.push(u)
          })
          return j
        })
        for (const o of ops) apply(journals[o.r % count] as Journal, o, log)
        journals.forEach((j, i) => {
          for (const u of shuffled(log, seed + i)) Y.applyUpdate(j.doc, u, REMOTE)
        })
        const fresh = new Y.Doc()
        for (const u of [...log].reverse()) Y.applyUpdate(fresh, u)
        const expected = JSON.stringify(createJournal(fresh).toJSON())
        for (const j of journals) {
          expect(JSON.stringify(j.toJSON())).toBe(expected)
          expect(j.invalidEntries()).toEqual([])
        }
      }),
      { numRuns: RUNS },
    )
  })
})
