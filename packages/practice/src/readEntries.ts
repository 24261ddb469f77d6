import * as Y from 'yjs'
import { compareStrings } from './canonical.js'
import type { InvalidEntry } from './types.js'

/** The verdict on one stored value. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string }

/** Validated listing of one map: good entries sorted by time then id, and the rejected ones. */
export interface Listing<T> {
  entries: T[]
  invalid: InvalidEntry[]
}

/** Reads one map of entries, validating each stored value once. */
export interface EntryReader<T> {
  get(map: Y.Map<unknown>, key: string): Outcome<T> | undefined
  list(map: Y.Map<unknown>): Listing<T>
}

/**
 * An {@link EntryReader} that caches verdicts by stored value. Yjs hands out
 * the same object for an unchanged entry, and validation without a clock is
 * pure, so the cache never goes stale.
 */
export function createEntryReader<T extends { id: string }>(
  type: 'session' | 'checkin',
  validate: (value: unknown) => T,
  timeOf: (entry: T) => string,
): EntryReader<T> {
  const cache = new WeakMap<object, Outcome<T>>()

  const judge = (value: unknown): Outcome<T> => {
    if (value instanceof Y.AbstractType) return { ok: false, reason: `${type} must be a plain object, got a shared type` }
    try {
      return { ok: true, value: validate(value) }
    } catch (e) {
      return { ok: false, reason: e instanceof Error ? e.message : String(e) }
    }
  }

  const get = (map: Y.Map<unknown>, key: string): Outcome<T> | undefined => {
    if (!map.has(key)) return undefined
    const value = map.get(key)
    let outcome = typeof value === 'object' && value !== null ? cache.get(value) : undefined
    if (outcome === undefined) {
      outcome = judge(value)
      if (typeof value === 'object' && value !== null) cache.set(value, outcome)
    }
    if (outcome.ok && outcome.value.id !== key) {
      return { ok: false, reason: `id must equal the map key, got "${outcome.value.id}"` }
    }
    return outcome
  }

  const list = (map: Y.Map<unknown>): Listing<T> => {
    const entries: T[] = []
    const invalid: InvalidEntry[] = []
    for (const key of map.keys()) {
      const outcome = get(map, key) as Outcome<T>
      if (outcome.ok) entries.push(outcome.value)
      else invalid.push({ id: key, type, reason: outcome.reason })
    }
    entries.sort((a, b) => compareStrings(timeOf(a), timeOf(b)) || compareStrings(a.id, b.id))
    invalid.sort((a, b) => compareStrings(a.id, b.id))
    return { entries, invalid }
  }

  return { get, list }
}
