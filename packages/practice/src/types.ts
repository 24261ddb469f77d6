/** A meditation session as stored in the `sessions` map. */
export interface Session {
  /** Entry id: 12 hex digits of creation time in ms, then 16 random hex digits. */
  id: string
  /** When the session started: canonical ISO 8601 UTC (`toISOString`). */
  start: string
  /** Duration: greater than 0, at most 1440, at most two decimals. */
  minutes: number
  /** Technique name, trimmed, 1 to 64 characters. */
  technique: string
  /** Free text, at most 4000 characters. */
  note: string
  /** Id of the device that last wrote the entry, when known. */
  device?: string
  /** When the entry was first created: canonical ISO 8601 UTC. */
  createdAt: string
}

/** A mood and stress check-in as stored in the `checkins` map. */
export interface Checkin {
  /** Entry id, as for sessions. */
  id: string
  /** When the check-in applies: canonical ISO 8601 UTC. */
  at: string
  /** Mood from 1 (low) to 5 (high). */
  mood: number
  /** Stress from 1 (low) to 5 (high), or null when not given. */
  stress: number | null
  /** Free text, at most 4000 characters. */
  note: string
  /** Id of the device that last wrote the entry, when known. */
  device?: string
  /** When the entry was first created: canonical ISO 8601 UTC. */
  createdAt: string
}

/** A session or a check-in, tagged with its type. */
export type Entry = ({ type: 'session' } & Session) | ({ type: 'checkin' } & Checkin)

/** What a caller gives to log a session; omitted fields take their defaults. */
export interface SessionInput {
  /** Defaults to now. */
  start?: Date | string
  minutes: number
  /** Defaults to `'unspecified'`. */
  technique?: string
  /** Defaults to `''`. */
  note?: string
}

/** What a caller gives to log a check-in; omitted fields take their defaults. */
export interface CheckinInput {
  /** Defaults to now. */
  at?: Date | string
  mood: number
  /** Defaults to null. */
  stress?: number | null
  /** Defaults to `''`. */
  note?: string
}

/** Summary figures over sessions and check-ins; averages rounded to two decimals. */
export interface Totals {
  sessions: number
  minutes: number
  checkins: number
  /** Null when there are no check-ins. */
  averageMood: number | null
  /** Null when no check-in has a stress rating. */
  averageStress: number | null
  byTechnique: Record<string, { sessions: number; minutes: number }>
}

/** A time range: `from` inclusive, `to` exclusive; either may be omitted. */
export interface TimeRange {
  from?: Date | string
  to?: Date | string
}

/** A stored value that failed validation and is left out of every listing. */
export interface InvalidEntry {
  /** The map key under which the value is stored. */
  id: string
  /** Which map holds it. */
  type: 'session' | 'checkin'
  /** Why it was rejected: the validation error's message. */
  reason: string
}
