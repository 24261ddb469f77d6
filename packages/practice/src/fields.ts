import { PracticeError, invalid } from './errors.js'
import { isEntryId } from './ids.js'

/** Validation limits; lengths count Unicode code points. */
export const LIMITS = Object.freeze({
  minutesMax: 1440,
  techniqueMax: 64,
  noteMax: 4000,
  deviceMax: 128,
})

/** The technique stored when none is given. */
export const DEFAULT_TECHNIQUE = 'unspecified'

// C0, DEL and C1 controls; notes may keep tab (U+0009) and newline (U+000A).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const NOTE_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/
// A lone surrogate would be replaced by U+FFFD when the doc is encoded, so
// the writer and its peers would hold different text.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

function codePoints(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

function checkText(s: string, field: string, control: RegExp, controlRule: string): void {
  const c = control.exec(s)
  if (c !== null) {
    const code = c[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')
    throw new PracticeError(field, `${field} must not contain ${controlRule}, got U+${code} at position ${c.index}`)
  }
  const lone = LONE_SURROGATE.exec(s)
  if (lone !== null) {
    throw new PracticeError(field, `${field} must be well-formed Unicode, got a lone surrogate at position ${lone.index}`)
  }
}

/** An entry id: 28 lowercase hex digits. */
export function checkId(value: unknown, field = 'id'): string {
  if (!isEntryId(value)) throw invalid(field, 'must be 28 lowercase hex digits (12 of time, 16 random)', value)
  return value
}

/** A duration in minutes: greater than 0, at most 1440, at most two decimals. */
export function checkMinutes(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > LIMITS.minutesMax) {
    throw invalid('minutes', `must be a number greater than 0 and at most ${LIMITS.minutesMax}`, value)
  }
  if (Math.round(value * 100) / 100 !== value) {
    throw invalid('minutes', 'must have at most 2 decimal places', value)
  }
  return value
}

/** A technique name, trimmed: 1 to 64 characters without control characters. */
export function checkTechnique(value: unknown): string {
  const rule = `must be a string of 1 to ${LIMITS.techniqueMax} characters`
  if (typeof value !== 'string') throw invalid('technique', rule, value)
  const trimmed = value.trim()
  const length = codePoints(trimmed)
  if (length === 0) throw invalid('technique', `${rule} (not blank)`, value)
  if (length > LIMITS.techniqueMax) {
    throw new PracticeError('technique', `technique ${rule}, got ${length} characters`)
  }
  checkText(trimmed, 'technique', CONTROL, 'control characters')
  return trimmed
}

/** A free-text note: at most 4000 characters; tab and newline are the only controls allowed. */
export function checkNote(value: unknown): string {
  const rule = `must be a string of at most ${LIMITS.noteMax} characters`
  // The value itself is not echoed for strings: notes may be private.
  if (typeof value !== 'string') throw invalid('note', rule, value)
  const length = codePoints(value)
  if (length > LIMITS.noteMax) throw new PracticeError('note', `note ${rule}, got ${length} characters`)
  checkText(value, 'note', NOTE_CONTROL, 'control characters other than tab and newline')
  return value
}

/** A mood rating: an integer from 1 to 5. */
export function checkMood(value: unknown): number {
  if (!isRating(value)) throw invalid('mood', 'must be an integer from 1 to 5', value)
  return value
}

/** A stress rating: an integer from 1 to 5, or null when not given. */
export function checkStress(value: unknown): number | null {
  if (value !== null && !isRating(value)) throw invalid('stress', 'must be an integer from 1 to 5 or null', value)
  return value
}

/** The id of the writing device: 1 to 128 characters without control characters. */
export function checkDevice(value: unknown): string {
  const rule = `must be a string of 1 to ${LIMITS.deviceMax} characters`
  if (typeof value !== 'string' || value.length === 0) throw invalid('device', rule, value)
  const length = codePoints(value)
  if (length > LIMITS.deviceMax) throw new PracticeError('device', `device ${rule}, got ${length} characters`)
  checkText(value, 'device', CONTROL, 'control characters')
  return value
}

function isRating(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 5
}
