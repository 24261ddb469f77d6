/** The stable error codes of `@mindsync/practice`. */
export type PracticeErrorCode = 'E_INVALID'

/**
 * Thrown when practice data or an argument fails validation. `field` names the
 * offending field; the message says what value was given and what is allowed.
 * Messages never repeat the text of a note, which may be private.
 */
export class PracticeError extends Error {
  readonly code: 'E_INVALID' = 'E_INVALID'
  readonly field: string
  constructor(field: string, message: string) {
    super(message)
    this.name = 'PracticeError'
    this.field = field
  }
}

/** Builds the usual "`field` `rule`, got `value`" error. */
export function invalid(field: string, rule: string, got: unknown): PracticeError {
  return new PracticeError(field, `${field} ${rule}, got ${describe(got)}`)
}

const MAX_SHOWN = 40

/** A short, safe rendering of a rejected value for an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined'
  if (value === null) return 'null'
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value)
  if (typeof value === 'string') {
    const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value
    return JSON.stringify(shown)
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? 'an invalid Date' : `Date ${value.toISOString()}`
  }
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}
