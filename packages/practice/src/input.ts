import { checkDate } from './dates.js'
import { PracticeError, invalid } from './errors.js'
import { DEFAULT_TECHNIQUE } from './fields.js'
import type { Checkin, Session } from './types.js'
import { isRecord, ownField, validateCheckin, validateSession } from './validate.js'

const SESSION_KEYS = ['start', 'minutes', 'technique', 'note']
const CHECKIN_KEYS = ['at', 'mood', 'stress', 'note']

/** Who writes and when: the parts of a record the journal supplies. */
export interface Stamp {
  id: string
  createdAt: string
  device: string | undefined
  now: Date
}

// Unknown keys are refused so that a typo ("notes") is not silently dropped.
function readInput(input: unknown, kind: string, keys: readonly string[]): (key: string) => unknown {
  if (!isRecord(input)) throw invalid('input', `must be a ${kind} object`, input)
  for (const key of Object.keys(input)) {
    if (!keys.includes(key)) {
      throw new PracticeError(key, `${key} is not a ${kind} field; allowed: ${keys.join(', ')}`)
    }
  }
  return (key) => ownField(input, key)
}

function or(value: unknown, fallback: unknown): unknown {
  return value === undefined ? fallback : value
}

/** A new session from caller input, with defaults applied, validated and frozen. */
export function buildSession(input: unknown, stamp: Stamp): Session {
  const get = readInput(input, 'session', SESSION_KEYS)
  return validateSession(
    {
      id: stamp.id,
      start: or(get('start'), stamp.now),
      minutes: get('minutes'),
      technique: or(get('technique'), DEFAULT_TECHNIQUE),
      note: or(get('note'), ''),
      device: stamp.device,
      createdAt: stamp.createdAt,
    },
    { now: stamp.now },
  )
}

/** A new check-in from caller input, with defaults applied, validated and frozen. */
export function buildCheckin(input: unknown, stamp: Stamp): Checkin {
  const get = readInput(input, 'checkin', CHECKIN_KEYS)
  return validateCheckin(
    {
      id: stamp.id,
      at: or(get('at'), stamp.now),
      mood: get('mood'),
      stress: or(get('stress'), null),
      note: or(get('note'), ''),
      device: stamp.device,
      createdAt: stamp.createdAt,
    },
    { now: stamp.now },
  )
}

/**
 * `current` with the fields of `patch` replaced. Only a date given in the
 * patch must lie within a day of now: an unchanged date that another
 * device's clock put ahead does not block editing the note.
 */
export function patchSession(current: Session, patch: unknown, device: string | undefined, now: Date): Session {
  const get = readInput(patch, 'session', SESSION_KEYS)
  if (get('start') !== undefined) checkDate(get('start'), 'start', now)
  return validateSession({
    id: current.id,
    start: or(get('start'), current.start),
    minutes: or(get('minutes'), current.minutes),
    technique: or(get('technique'), current.technique),
    note: or(get('note'), current.note),
    device,
    createdAt: current.createdAt,
  })
}

/** `current` with the fields of `patch` replaced; see {@link patchSession}. */
export function patchCheckin(current: Checkin, patch: unknown, device: string | undefined, now: Date): Checkin {
  const get = readInput(patch, 'checkin', CHECKIN_KEYS)
  if (get('at') !== undefined) checkDate(get('at'), 'at', now)
  return validateCheckin({
    id: current.id,
    at: or(get('at'), current.at),
    mood: or(get('mood'), current.mood),
    stress: or(get('stress'), current.stress),
    note: or(get('note'), current.note),
    device,
    createdAt: current.createdAt,
  })
}
