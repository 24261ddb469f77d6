import { PracticeError, invalid } from './errors.js'

/** The earliest accepted timestamp: 2000-01-01T00:00:00.000Z. */
export const MIN_TIME = Date.UTC(2000, 0, 1)
/** The latest representable timestamp with a four-digit year. */
export const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999)
/** How far ahead of the clock a new date may lie: one day. */
export const MAX_AHEAD_MS = 24 * 60 * 60 * 1000

// A date, or a date and time with a mandatory zone: a time without a zone
// would be read in the device's local zone and differ between devices.
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):(\d{2})))?$/

const FORMAT = 'must be an ISO 8601 date such as 2024-05-01 or 2024-05-01T07:30:00Z (a time needs Z or ±hh:mm)'

/** Milliseconds since the epoch of a Date or ISO 8601 string; throws on anything else. */
export function parseTime(value: unknown, field: string): number {
  if (value instanceof Date) {
    const ms = value.getTime()
    if (Number.isNaN(ms)) throw invalid(field, 'must be a valid date', value)
    return ms
  }
  if (typeof value !== 'string') throw invalid(field, 'must be a Date or an ISO 8601 string', value)
  const m = ISO.exec(value)
  if (m === null) throw invalid(field, FORMAT, value)
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
    number, number, number, number, number, number,
  ]
  const ms = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3))
  const offset = m[9] === undefined ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]))
  const local = Date.UTC(year, month - 1, day, hour, minute, second, ms)
  const check = new Date(local)
  const real =
    check.getUTCFullYear() === year &&
    check.getUTCMonth() === month - 1 &&
    check.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60 &&
    Math.abs(offset) < 24 * 60 &&
    Number(m[11] ?? 0) < 60
  if (!real) throw invalid(field, 'must be a real calendar date and time', value)
  return local - offset * 60_000
}

/**
 * The canonical form (`toISOString`, UTC, milliseconds) of a date given as a
 * Date or ISO string. Dates before 2000 are refused; when `now` is given,
 * so are dates more than one day after it.
 */
export function checkDate(value: unknown, field: string, now?: Date): string {
  const ms = parseTime(value, field)
  const iso = new Date(ms).toISOString()
  if (ms < MIN_TIME) {
    throw new PracticeError(field, `${field} must be on or after 2000-01-01T00:00:00.000Z, got ${iso}`)
  }
  if (ms > MAX_TIME) {
    throw new PracticeError(field, `${field} must be on or before 9999-12-31T23:59:59.999Z, got ${iso}`)
  }
  if (now !== undefined && ms > now.getTime() + MAX_AHEAD_MS) {
    throw new PracticeError(
      field,
      `${field} must be at most one day after the current time (${now.toISOString()}), got ${iso}`,
    )
  }
  return iso
}
