import type * as Y from 'yjs'
import { compareStrings, sortKeysDeep } from './canonical.js'
import { PracticeError, describe, invalid } from './errors.js'
import { checkDevice } from './fields.js'
import { createId } from './ids.js'
import { buildCheckin, buildSession, patchCheckin, patchSession } from './input.js'
import { createEntryReader, type EntryReader } from './readEntries.js'
import { computeTotals } from './totals.js'
import type { Checkin, CheckinInput, Entry, InvalidEntry, Session, SessionInput, TimeRange, Totals } from './types.js'
import { validateCheckin, validateSession } from './validate.js'

/** Options of {@link createJournal}. */
export interface JournalOptions {
  /** Id of this device, stored in every entry it writes. */
  device?: string
  /** The clock; defaults to the system clock. */
  now?: () => Date
}

/** Practice data kept in a Y.Doc: write, list and summarize sessions and check-ins. */
export interface Journal {
  /** The document that holds the data. */
  readonly doc: Y.Doc
  /** Validates and stores a new session in one transaction. */
  logSession(input: SessionInput): Session
  /** Validates and stores a new check-in in one transaction. */
  logCheckin(input: CheckinInput): Checkin
  /** Replaces the given fields of a session; the entry is rewritten whole. */
  editSession(id: string, patch: Partial<SessionInput>): Session
  /** Replaces the given fields of a check-in; the entry is rewritten whole. */
  editCheckin(id: string, patch: Partial<CheckinInput>): Checkin
  /** Deletes the entry (valid or not) with this id; false when there was none. */
  remove(id: string): boolean
  /** Valid sessions, sorted by start, then id. */
  sessions(): Session[]
  /** Valid check-ins, sorted by time, then id. */
  checkins(): Checkin[]
  /** Sessions and check-ins together, sorted by time, then id. */
  entries(): Entry[]
  /** Stored values that failed validation, sorted by id; they are left out of every listing. */
  invalidEntries(): InvalidEntry[]
  /** Summary of the entries in `range` (`from` inclusive, `to` exclusive). */
  totals(range?: TimeRange): Totals
  /** Everything, with sorted keys and lists: identical on replicas that hold the same updates. */
  toJSON(): { sessions: Session[]; checkins: Checkin[]; totals: Totals }
  /** Calls `listener` after each transaction, local or remote, that changes entries. Returns the unsubscribe. */
  onChange(listener: () => void): () => void
}

const sessionReader = createEntryReader('session', (v) => validateSession(v), (s) => s.start)
const checkinReader = createEntryReader('checkin', (v) => validateCheckin(v), (c) => c.at)

// Fields a newer version may have added are kept when an entry is rewritten.
function unknownFields(raw: unknown, known: object): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null) return {}
  const keys = Object.keys(raw).filter((k) => !Object.hasOwn(known, k) && k !== '__proto__' && k !== 'device')
  return Object.fromEntries(keys.map((k) => [k, (raw as Record<string, unknown>)[k]]))
}

function sameFields(a: object, b: object, keys: readonly string[]): boolean {
  return keys.every((k) => (a as Record<string, unknown>)[k] === (b as Record<string, unknown>)[k])
}

/**
 * Opens the practice journal held in `doc` (maps `sessions` and `checkins`).
 * Any number of journals may share a doc; replicas merge through Yjs updates.
 *
 * @example
 * ```ts
 * const doc = new Y.Doc()
 * const journal = createJournal(doc, { device: 'phone' })
 * journal.logSession({ minutes: 20, technique: 'breath' })
 * journal.logCheckin({ mood: 4, stress: 2 })
 * journal.totals() // { sessions: 1, minutes: 20, checkins: 1, averageMood: 4, ... }
 * ```
 */
export function createJournal(doc: Y.Doc, options: JournalOptions = {}): Journal {
  const device = options.device === undefined ? undefined : checkDevice(options.device)
  const clock = options.now ?? (() => new Date())
  const sessionsMap = doc.getMap<unknown>('sessions')
  const checkinsMap = doc.getMap<unknown>('checkins')

  const now = (): Date => {
    const d = clock()
    if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw invalid('now', 'must return a valid Date', d)
    return d
  }
  const stamp = () => {
    const at = now()
    let id = createId(at.getTime())
    while (sessionsMap.has(id) || checkinsMap.has(id)) id = createId(at.getTime())
    return { id, createdAt: at.toISOString(), device, now: at }
  }
  const write = (map: Y.Map<unknown>, id: string, value: object) => {
    doc.transact(() => map.set(id, Object.freeze(value)), journal)
  }
  const current = <T>(reader: EntryReader<T>, map: Y.Map<unknown>, type: string, id: unknown): T => {
    const outcome = typeof id === 'string' ? reader.get(map, id) : undefined
    if (outcome === undefined) throw invalid('id', `must name an existing ${type}`, id)
    if (!outcome.ok) {
      throw new PracticeError('id', `id ${describe(id)} names a stored ${type} that is invalid (${outcome.reason})`)
    }
    return outcome.value
  }
  const sessions = () => sessionReader.list(sessionsMap).entries
  const checkins = () => checkinReader.list(checkinsMap).entries

  const journal: Journal = {
    doc,
    logSession(input) {
      const session = buildSession(input, stamp())
      write(sessionsMap, session.id, { ...session })
      return session
    },
    logCheckin(input) {
      const checkin = buildCheckin(input, stamp())
      write(checkinsMap, checkin.id, { ...checkin })
      return checkin
    },
    editSession(id, patch) {
      const before = current(sessionReader, sessionsMap, 'session', id)
      const after = patchSession(before, patch, device, now())
      if (sameFields(before, after, ['start', 'minutes', 'technique', 'note'])) return before
      write(sessionsMap, after.id, { ...unknownFields(sessionsMap.get(after.id), after), ...after })
      return after
    },
    editCheckin(id, patch) {
      const before = current(checkinReader, checkinsMap, 'checkin', id)
      const after = patchCheckin(before, patch, device, now())
      if (sameFields(before, after, ['at', 'mood', 'stress', 'note'])) return before
      write(checkinsMap, after.id, { ...unknownFields(checkinsMap.get(after.id), after), ...after })
      return after
    },
    remove(id) {
      if (typeof id !== 'string' || !(sessionsMap.has(id) || checkinsMap.has(id))) return false
      doc.transact(() => {
        sessionsMap.delete(id)
        checkinsMap.delete(id)
      }, journal)
      return true
    },
    sessions,
    checkins,
    entries() {
      const all: Entry[] = [
        ...sessions().map((s) => ({ type: 'session' as const, ...s })),
        ...checkins().map((c) => ({ type: 'checkin' as const, ...c })),
      ]
      const time = (e: Entry) => (e.type === 'session' ? e.start : e.at)
      return all.sort(
        (a, b) => compareStrings(time(a), time(b)) || compareStrings(a.id, b.id) || compareStrings(a.type, b.type),
      )
    },
    invalidEntries() {
      const all = [...sessionReader.list(sessionsMap).invalid, ...checkinReader.list(checkinsMap).invalid]
      return all.sort((a, b) => compareStrings(a.id, b.id) || compareStrings(a.type, b.type))
    },
    totals(range) {
      return computeTotals(sessions(), checkins(), range)
    },
    toJSON() {
      const s = sessions()
      const c = checkins()
      return sortKeysDeep({ sessions: s, checkins: c, totals: computeTotals(s, c) })
    },
    onChange(listener) {
      const handler = (tr: Y.Transaction) => {
        const types: unknown[] = [...tr.changed.keys()]
        if (types.includes(sessionsMap) || types.includes(checkinsMap)) listener()
      }
      doc.on('afterTransaction', handler)
      return () => doc.off('afterTransaction', handler)
    },
  }
  return journal
}
