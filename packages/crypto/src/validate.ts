import { inputError } from './errors.js'

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'Array'
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object'
  return typeof value
}

// Same test as noble's isBytes: also accepts Uint8Arrays from another realm.
function isBytes(value: unknown): value is Uint8Array {
  return (
    value instanceof Uint8Array ||
    (ArrayBuffer.isView(value) && value.constructor.name === 'Uint8Array')
  )
}

/** Throws unless `value` is a Uint8Array (of exactly `length` bytes when given). */
export function assertBytes(name: string, value: unknown, length?: number): asserts value is Uint8Array {
  if (!isBytes(value)) throw inputError(`${name} must be a Uint8Array, got ${describe(value)}`)
  if (length !== undefined && value.length !== length) {
    throw inputError(`${name} must be ${length} bytes, got ${value.length}`)
  }
}

/** Throws unless `value` is a Uint8Array of at least `min` bytes. */
export function assertMinBytes(name: string, value: unknown, min: number): asserts value is Uint8Array {
  assertBytes(name, value)
  if (value.length < min) throw inputError(`${name} must be at least ${min} bytes, got ${value.length}`)
}

/** Throws unless `value` is undefined or a Uint8Array. */
export function assertOptionalBytes(name: string, value: unknown): asserts value is Uint8Array | undefined {
  if (value !== undefined) assertBytes(name, value)
}

/** Throws unless `value` is a string. */
export function assertString(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') throw inputError(`${name} must be a string, got ${describe(value)}`)
}

/** Throws unless `value` is an integer in [min, max]. */
export function assertInteger(name: string, value: unknown, min: number, max: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw inputError(`${name} must be an integer, got ${typeof value === 'number' ? value : describe(value)}`)
  }
  if (value < min || value > max) throw inputError(`${name} must be between ${min} and ${max}, got ${value}`)
}

/** Throws unless `value` is a Uint8Array or a string. */
export function assertBytesOrString(name: string, value: unknown): asserts value is Uint8Array | string {
  if (typeof value !== 'string' && !isBytes(value)) {
    throw inputError(`${name} must be a Uint8Array or a string, got ${describe(value)}`)
  }
}

/** Throws unless `value` is a non-empty string. */
export function assertContext(name: string, value: unknown): asserts value is string {
  assertString(name, value)
  if (value.length === 0) throw inputError(`${name} must be a non-empty string`)
}
