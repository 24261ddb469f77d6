import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { type Journal, PracticeError, createJournal, isEntryId } from './index.js'

const NOW = new Date('2024-05-01T12:00:00.000Z')

function journal(device = 'phone'): Journal {
  return createJournal(new Y.Doc(), { device, now: () => NOW })
}

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (e) {
    if (e instanceof PracticeError) return e.field
    throw e
  }
  return undefined
}

describe('logging', () => {
  it('logs a session with defaults', () => {
    const j = journal()
    const s = j.logSession({ minutes: 15 })
    expect(s).toEqual({
      id: s.id,
      start: NOW.toISOString(),
      minutes: 15,
      technique: 'unspecified',
      note: '',
      device: 'phone',
      createdAt: NOW.toISOString(),
    })
    expect(isEntryId(s.id)).toBe(true)
    expect(s.id.slice(0, 12)).toBe(NOW.getTime().toString(16).padStart(12, '0'))
    expect(j.doc.getMap('sessions').get(s.id)).toEqual(s)
  })

  it('logs a check-in with defaults', () => {
    const j = journal()
    const c = j.logCheckin({ mood: 3, at: new Date('2024-05-01T08:00:00Z') })
    expect(c).toMatchObject({ at: '2024-05-01T08:00:00.000Z', mood: 3, stress: null, note: '', device: 'phone' })
    expect(j.checkins()).toEqual([c])
  })

  it('writes nothing when input is invalid', () => {
    const j = journal()
    const updates: Uint8Array[] = []
    j.doc.on('update', (u: Uint8Array) => updates.push(u))
    expect(fieldOf(() => j.logSession({ minutes: 0 }))).toBe('minutes')
    expect(fieldOf(() => j.logSession({ minutes: 5, start: '2024-05-02T12:00:00.001Z' }))).toBe('start')
    expect(fieldOf(() => j.logSession({ minutes: 5, note: null } as never))).toBe('note')
    expect(fieldOf(() => j.logSession({ minutes: 5, notes: 'typo' } as never))).toBe('notes')
    expect(fieldOf(() => j.logSession(null as never))).toBe('input')
    expect(fieldOf(() => j.logCheckin({ mood: 3, stress: 9 }))).toBe('stress')
    expect(updates).toHaveLength(0)
    expect(j.entries()).toEqual([])
  })

  it('accepts a start up to one day ahead', () => {
    const j = journal()
    expect(j.logSession({ minutes: 5, start: '2024-05-02T12:00:00.000Z' }).start).toBe('2024-05-02T12:00:00.000Z')
  })

  it('omits the device when the journal has none and checks it when given', () => {
    const j = createJournal(new Y.Doc(), { now: () => NOW })
    expect('device' in j.logSession({ minutes: 1 })).toBe(false)
    expect(fieldOf(() => createJournal(new Y.Doc(), { device: '' }))).toBe('device')
    expect(fieldOf(() => createJournal(new Y.Doc(), { now: () => new Date('x') }).logSession({ minutes: 1 }))).toBe(
      'now',
    )
  })

  it('uses one transaction per write', () => {
    const j = journal()
    let transactions = 0
    j.doc.on('afterTransaction', () => transactions++)
    j.logSession({ minutes: 1 })
    j.logCheckin({ mood: 1 })
    expect(transactions).toBe(2)
  })
})

describe('listing', () => {
  it('sorts sessions by start, check-ins by time, entries by time then id', () => {
    const j = journal()
    const late = j.logSession({ minutes: 1, start: '2024-05-01T10:00:00Z' })
    const early = j.logSession({ minutes: 2, start: '2024-05-01T06:00:00Z' })
    const tieA = j.logSession({ minutes: 3, start: '2024-05-01T08:00:00Z' })
    const tieB = j.logSession({ minutes: 4, start: '2024-05-01T08:00:00Z' })
    const mid = j.logCheckin({ mood: 2, at: '2024-05-01T09:00:00Z' })
    const [first, second] = [tieA, tieB].sort((a, b) => (a.id < b.id ? -1 : 1)) as [typeof tieA, typeof tieB]
    expect(j.sessions().map((s) => s.id)).toEqual([early.id, first.id, second.id, late.id])
    expect(j.entries().map((e) => `${e.type}:${e.id}`)).toEqual([
      `session:${early.id}`,
      `session:${first.id}`,
      `session:${second.id}`,
      `checkin:${mid.id}`,
      `session:${late.id}`,
    ])
  })

  it('returns entries that cannot change the stored data', () => {
    const j = journal()
    j.logSession({ minutes: 5 })
    const [s] = j.sessions()
    expect(() => {
      ;(s as { minutes: number }).minutes = 99
    }).toThrow(TypeError)
    expect(j.sessions()[0]?.minutes).toBe(5)
  })
})

describe('editing and removing', () => {
  it('replaces the given fields and keeps id and createdAt', () => {
    const j = createJournal(new Y.Doc(), { device: 'phone', now: () => NOW })
    const s = j.logSession({ minutes: 10, technique: 'body scan', note: 'calm' })
    const laptop = createJournal(j.doc, { device: 'laptop', now: () => NOW })
    const e = laptop.editSession(s.id, { minutes: 12.5, note: '' })
    expect(e).toEqual({ ...s, minutes: 12.5, note: '', device: 'laptop' })
    expect(j.sessions()).toEqual([e])
  })

  it('edits check-ins, clearing stress with null', () => {
    const j = journal()
    const c = j.logCheckin({ mood: 2, stress: 4 })
    expect(j.editCheckin(c.id, { stress: null, mood: 3 })).toMatchObject({ mood: 3, stress: null })
  })

  it('does not write when nothing changes', () => {
    const j = journal()
    const s = j.logSession({ minutes: 10 })
    let updates = 0
    j.doc.on('update', () => updates++)
    expect(j.editSession(s.id, {})).toEqual(s)
    expect(j.editSession(s.id, { minutes: 10 })).toEqual(s)
    expect(updates).toBe(0)
  })

  it('rejects unknown ids and bad patches without writing', () => {
    const j = journal()
    const s = j.logSession({ minutes: 10 })
    const c = j.logCheckin({ mood: 3 })
    expect(fieldOf(() => j.editSession('0'.repeat(28), { minutes: 1 }))).toBe('id')
    expect(fieldOf(() => j.editSession(c.id, { minutes: 1 }))).toBe('id')
    expect(fieldOf(() => j.editSession(s.id, { minutes: 2000 }))).toBe('minutes')
    expect(fieldOf(() => j.editSession(s.id, { start: '2030-01-01T00:00:00Z' }))).toBe('start')
    expect(fieldOf(() => j.editSession(s.id, { mood: 3 } as never))).toBe('mood')
    expect(j.sessions()).toEqual([s])
  })

  it('keeps fields written by a newer version when editing', () => {
    const j = journal()
    const s = j.logSession({ minutes: 10 })
    j.doc.getMap('sessions').set(s.id, { ...s, tags: ['morning'] })
    j.editSession(s.id, { minutes: 11 })
    expect(j.doc.getMap('sessions').get(s.id)).toEqual({ ...s, minutes: 11, tags: ['morning'] })
  })

  it('removes entries of either kind', () => {
    const j = journal()
    const s = j.logSession({ minutes: 10 })
    const c = j.logCheckin({ mood: 3 })
    expect(j.remove(s.id)).toBe(true)
    expect(j.remove(s.id)).toBe(false)
    expect(j.remove(c.id)).toBe(true)
    expect(j.remove(42 as never)).toBe(false)
    expect(j.entries()).toEqual([])
  })
})

describe('onChange', () => {
  it('fires once per changing transaction, local or remote, until unsubscribed', () => {
    const j = journal()
    const other = journal('laptop')
    let calls = 0
    const off = j.onChange(() => calls++)
    j.logSession({ minutes: 1 })
    j.doc.getMap('unrelated').set('x', 1)
    other.logCheckin({ mood: 5 })
    Y.applyUpdate(j.doc, Y.encodeStateAsUpdate(other.doc))
    expect(calls).toBe(2)
    off()
    j.logSession({ minutes: 1 })
    expect(calls).toBe(2)
  })
})
