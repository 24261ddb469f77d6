import { compareStrings } from './canonical.js'
import { parseTime } from './dates.js'
import { PracticeError, invalid } from './errors.js'
import type { Checkin, Session, TimeRange, Totals } from './types.js'
import { isRecord, ownField } from './validate.js'

/** Rounds to two decimals, the precision of stored minutes and of averages. */
export function round2(x: number): number {
  return Math.round(x * 100) / 100
}

/** Bounds in ms: `from` inclusive, `to` exclusive; open ends are infinite. */
export function parseRange(range: unknown): { from: number; to: number } {
  if (range === undefined) return { from: -Infinity, to: Infinity }
  if (!isRecord(range)) throw invalid('range', 'must be an object with optional from and to', range)
  for (const key of Object.keys(range)) {
    if (key !== 'from' && key !== 'to') {
      throw new PracticeError(key, `${key} is not a range field; allowed: from, to`)
    }
  }
  const rawFrom = ownField(range, 'from')
  const rawTo = ownField(range, 'to')
  const from = rawFrom === undefined ? -Infinity : parseTime(rawFrom, 'from')
  const to = rawTo === undefined ? Infinity : parseTime(rawTo, 'to')
  if (to < from) {
    const iso = (ms: number) => new Date(ms).toISOString()
    throw new PracticeError('to', `to must not be before from (${iso(from)}), got ${iso(to)}`)
  }
  return { from, to }
}

function average(values: readonly number[]): number | null {
  if (values.length === 0) return null
  let sum = 0
  for (const v of values) sum += v
  return round2(sum / values.length)
}

/**
 * Counts, minutes and averages of the sessions and check-ins whose time
 * falls in `range`. Inputs are expected in a fixed order (as the journal
 * lists them), so floating-point sums are the same on every replica.
 */
export function computeTotals(
  sessions: readonly Session[],
  checkins: readonly Checkin[],
  range?: TimeRange,
): Totals {
  const { from, to } = parseRange(range)
  const inRange = (iso: string) => {
    const ms = Date.parse(iso)
    return ms >= from && ms < to
  }
  let count = 0
  let minutes = 0
  const techniques = new Map<string, { sessions: number; minutes: number }>()
  for (const s of sessions) {
    if (!inRange(s.start)) continue
    count++
    minutes += s.minutes
    const t = techniques.get(s.technique) ?? { sessions: 0, minutes: 0 }
    t.sessions++
    t.minutes += s.minutes
    techniques.set(s.technique, t)
  }
  const picked = checkins.filter((c) => inRange(c.at))
  const stress = picked.flatMap((c) => (c.stress === null ? [] : [c.stress]))
  const keys = [...techniques.keys()].sort(compareStrings)
  return {
    sessions: count,
    minutes: round2(minutes),
    checkins: picked.length,
    averageMood: average(picked.map((c) => c.mood)),
    averageStress: average(stress),
    byTechnique: Object.fromEntries(
      keys.map((k) => {
        const t = techniques.get(k) as { sessions: number; minutes: number }
        return [k, { sessions: t.sessions, minutes: round2(t.minutes) }]
      }),
    ),
  }
}
