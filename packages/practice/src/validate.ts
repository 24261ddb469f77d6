import { checkDate } from './dates.js'
import { PracticeError, invalid } from './errors.js'
import { checkDevice, checkId, checkMinutes, checkMood, checkNote, checkStress, checkTechnique } from './fields.js'
import type { Checkin, Session } from './types.js'

/** Options for the validators. */
export interface ValidateOptions {
  /**
   * When given, dates more than one day after it are refused. Leave it out
   * for stored entries, so that every replica reaches the same verdict
   * whatever its clock says.
   */
  now?: Date
}

/** Own properties only: a decoded value may carry a hostile prototype. */
export function ownField(record: object, key: string): unknown {
  return Object.hasOwn(record, key) ? (record as Record<string, unknown>)[key] : undefined
}

/** True for a non-null, non-array object. */
export function isRecord(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// An own "__proto__" key decodes on other replicas as a prototype, not a
// field: refuse it so that writer and readers reach the same verdict.
function checkRecord(input: unknown, field: string): asserts input is object {
  if (!isRecord(input)) throw invalid(field, 'must be an object', input)
  if (Object.hasOwn(input, '__proto__')) throw new PracticeError(field, `${field} must not have a __proto__ field`)
}

/**
 * Checks a complete session record (for example one read from a remote
 * replica) and returns it normalized and frozen; throws a `PracticeError`
 * naming the first bad field. Fields it does not know are ignored.
 */
export function validateSession(input: unknown, options: ValidateOptions = {}): Session {
  checkRecord(input, 'session')
  const get = (key: string) => ownField(input, key)
  const id = checkId(get('id'))
  const start = checkDate(get('start'), 'start', options.now)
  const minutes = checkMinutes(get('minutes'))
  const technique = checkTechnique(get('technique'))
  const note = checkNote(get('note'))
  const device = get('device') === undefined ? undefined : checkDevice(get('device'))
  const createdAt = checkDate(get('createdAt'), 'createdAt', options.now)
  return Object.freeze({ id, start, minutes, technique, note, ...(device === undefined ? {} : { device }), createdAt })
}

/**
 * Checks a complete check-in record (for example one read from a remote
 * replica) and returns it normalized and frozen; throws a `PracticeError`
 * naming the first bad field. Fields it does not know are ignored.
 */
export function validateCheckin(input: unknown, options: ValidateOptions = {}): Checkin {
  checkRecord(input, 'checkin')
  const get = (key: string) => ownField(input, key)
  const id = checkId(get('id'))
  const at = checkDate(get('at'), 'at', options.now)
  const mood = checkMood(get('mood'))
  const stress = checkStress(get('stress'))
  const note = checkNote(get('note'))
  const device = get('device') === undefined ? undefined : checkDevice(get('device'))
  const createdAt = checkDate(get('createdAt'), 'createdAt', options.now)
  return Object.freeze({ id, at, mood, stress, note, ...(device === undefined ? {} : { device }), createdAt })
}
