import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { PracticeError, createJournal } from './index.js'

const NOW = new Date('2024-05-10T00:00:00.000Z')

function filled() {
  const j = createJournal(new Y.Doc(), { device: 'phone', now: () => NOW })
  j.logSession({ minutes: 10.1, technique: 'breath', start: '2024-05-01T07:00:00Z' })
  j.logSession({ minutes: 20.2, technique: 'breath', start: '2024-05-02T07:00:00Z' })
  j.logSession({ minutes: 0.7, technique: 'metta', start: '2024-05-03T07:00:00Z' })
  j.logCheckin({ mood: 4, stress: 2, at: '2024-05-01T08:00:00Z' })
  j.logCheckin({ mood: 5, at: '2024-05-02T08:00:00Z' })
  j.logCheckin({ mood: 2, stress: 5, at: '2024-05-03T08:00:00Z' })
  return j
}

describe('totals', () => {
  it('is empty for an empty journal', () => {
    const j = createJournal(new Y.Doc())
    expect(j.totals()).toEqual({
      sessions: 0,
      minutes: 0,
      checkins: 0,
      averageMood: null,
      averageStress: null,
      byTechnique: {},
    })
  })

  it('sums minutes and averages ratings to two decimals', () => {
    expect(filled().totals()).toEqual({
      sessions: 3,
      minutes: 31,
      checkins: 3,
      averageMood: 3.67,
      averageStress: 3.5,
      byTechnique: { breath: { sessions: 2, minutes: 30.3 }, metta: { sessions: 1, minutes: 0.7 } },
    })
  })

  it('counts a range from inclusive to exclusive', () => {
    const j = filled()
    expect(j.totals({ from: '2024-05-02T07:00:00Z', to: new Date('2024-05-03T07:00:00Z') })).toEqual({
      sessions: 1,
      minutes: 20.2,
      checkins: 1,
      averageMood: 5,
      averageStress: null,
      byTechnique: { breath: { sessions: 1, minutes: 20.2 } },
    })
    expect(j.totals({ from: '2024-05-03' }).sessions).toBe(1)
    expect(j.totals({ to: '2024-05-02' }).checkins).toBe(1)
    expect(j.totals({ from: '2024-05-02', to: '2024-05-02' }).sessions).toBe(0)
  })

  it('rejects bad ranges, naming the field', () => {
    const j = filled()
    const field = (range: unknown) => {
      try {
        j.totals(range as never)
      } catch (e) {
        return (e as PracticeError).field
      }
      return undefined
    }
    expect(field({ from: 'monday' })).toBe('from')
    expect(field({ to: new Date(Number.NaN) })).toBe('to')
    expect(field({ from: '2024-05-03', to: '2024-05-01' })).toBe('to')
    expect(field({ since: '2024-05-01' })).toBe('since')
    expect(field('2024')).toBe('range')
  })

  it('orders technique keys, including awkward names', () => {
    const j = createJournal(new Y.Doc(), { now: () => NOW })
    for (const technique of ['zen', '__proto__', 'Anapana', 'constructor']) j.logSession({ minutes: 1, technique })
    const byTechnique = j.totals().byTechnique
    expect(Object.keys(byTechnique)).toEqual(['Anapana', '__proto__', 'constructor', 'zen'])
    expect(Object.getPrototypeOf(byTechnique)).toBe(Object.prototype)
    expect(JSON.parse(JSON.stringify(byTechnique)).__proto__).toEqual({ sessions: 1, minutes: 1 })
  })
})
