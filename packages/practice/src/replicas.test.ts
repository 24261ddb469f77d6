import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createJournal } from './index.js'

const NOW = new Date('2024-05-10T00:00:00.000Z')
const clock = () => NOW

function exchange(from: Y.Doc, to: Y.Doc): void {
  Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)))
}

function replicas() {
  const a = createJournal(new Y.Doc(), { device: 'phone', now: clock })
  const b = createJournal(new Y.Doc(), { device: 'laptop', now: clock })
  return { a, b }
}

const json = (j: { toJSON(): unknown }) => JSON.stringify(j.toJSON())

describe('toJSON across replicas', () => {
  it('is byte-identical whichever order updates arrive in', () => {
    const { a, b } = replicas()
    const updatesA: Uint8Array[] = []
    const updatesB: Uint8Array[] = []
    a.doc.on('update', (u: Uint8Array) => updatesA.push(u))
    b.doc.on('update', (u: Uint8Array) => updatesB.push(u))
    a.logSession({ minutes: 10, technique: 'breath', start: '2024-05-01T07:00:00Z', note: 'a' })
    const shared = a.logSession({ minutes: 5, start: '2024-05-01T07:00:00Z' })
    b.logSession({ minutes: 15.25, technique: 'metta', start: '2024-05-01T07:00:00Z' })
    b.logCheckin({ mood: 3, stress: 2, at: '2024-05-01T07:00:00Z' })
    a.remove(shared.id)

    const forward = new Y.Doc()
    const backward = new Y.Doc()
    for (const u of [...updatesA, ...updatesB]) Y.applyUpdate(forward, u)
    for (const u of [...updatesB, ...updatesA].reverse()) Y.applyUpdate(backward, u)
    exchange(a.doc, b.doc)
    exchange(b.doc, a.doc)

    const expected = json(a)
    expect(json(b)).toBe(expected)
    expect(json(createJournal(forward))).toBe(expected)
    expect(json(createJournal(backward))).toBe(expected)
    expect(a.toJSON().sessions).toHaveLength(2)
    expect(Object.keys(a.toJSON().sessions[0] ?? {})).toEqual([
      'createdAt',
      'device',
      'id',
      'minutes',
      'note',
      'start',
      'technique',
    ])
  })

  it('agrees on the last writer when the same entry is edited concurrently', () => {
    const { a, b } = replicas()
    const s = a.logSession({ minutes: 10 })
    exchange(a.doc, b.doc)
    a.editSession(s.id, { note: 'from phone' })
    b.editSession(s.id, { minutes: 30, note: 'from laptop' })
    const c = b.logCheckin({ mood: 4 })
    exchange(b.doc, a.doc)
    exchange(a.doc, b.doc)
    expect(json(a)).toBe(json(b))
    const [winner] = a.sessions()
    // Whole entries win, never a mix of both edits.
    expect([
      { note: 'from phone', minutes: 10, device: 'phone' },
      { note: 'from laptop', minutes: 30, device: 'laptop' },
    ]).toContainEqual({ note: winner?.note, minutes: winner?.minutes, device: winner?.device })
    expect(a.checkins()).toEqual([c])
  })

  it('agrees when one replica edits an entry the other removes', () => {
    const { a, b } = replicas()
    const s = a.logSession({ minutes: 10 })
    exchange(a.doc, b.doc)
    a.editSession(s.id, { minutes: 11 })
    b.remove(s.id)
    exchange(a.doc, b.doc)
    exchange(b.doc, a.doc)
    expect(json(a)).toBe(json(b))
  })
})

describe('invalid entries from other replicas', () => {
  it('are skipped by listings and totals, reported, and removable', () => {
    const { a, b } = replicas()
    const good = a.logSession({ minutes: 10 })
    const hostile = new Y.Doc()
    const sessions = hostile.getMap('sessions')
    const checkins = hostile.getMap('checkins')
    const id = (n: number) => `${'0'.repeat(27)}${n}`
    sessions.set(id(1), { ...good, id: id(1), minutes: -5 })
    sessions.set(id(2), 'not an object')
    sessions.set(id(3), { ...good }) // id does not match its key
    sessions.set('bad key', { ...good, id: 'bad key' })
    sessions.set(id(4), JSON.parse(`{"__proto__": ${JSON.stringify({ ...good, id: id(4) })}}`))
    sessions.set(id(5), new Y.Map())
    checkins.set(id(6), { id: id(6), at: '2024-05-01T00:00:00.000Z', mood: 9, stress: null, note: '', createdAt: NOW.toISOString() })
    exchange(hostile, a.doc)
    exchange(hostile, b.doc)
    exchange(a.doc, b.doc)

    expect(a.sessions()).toEqual([good])
    expect(a.checkins()).toEqual([])
    expect(a.totals().sessions).toBe(1)
    expect(json(a)).toBe(json(b))
    const reported = a.invalidEntries()
    expect(reported.map((e) => `${e.type}:${e.id}`)).toEqual([
      `session:${id(1)}`,
      `session:${id(2)}`,
      `session:${id(3)}`,
      `session:${id(4)}`,
      `session:${id(5)}`,
      `checkin:${id(6)}`,
      'session:bad key',
    ])
    expect(reported[0]?.reason).toBe('minutes must be a number greater than 0 and at most 1440, got -5')
    expect(reported[2]?.reason).toMatch(/id must equal the map key/)
    expect(reported[5]?.reason).toMatch(/^mood must be an integer/)
    expect(b.invalidEntries()).toEqual(reported)

    expect(() => a.editSession(id(1), { minutes: 5 })).toThrow(/invalid \(minutes must be/)
    expect(a.remove(id(1))).toBe(true)
    expect(a.invalidEntries()).toHaveLength(6)
  })

  it('a lone surrogate cannot make replicas disagree', () => {
    const { a } = replicas()
    expect(() => a.logSession({ minutes: 1, note: '\udc00' })).toThrow(/lone surrogate/)
  })
})
