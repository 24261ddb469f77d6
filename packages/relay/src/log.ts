/** One structured log entry: a level, a stable event name and plain fields (ids in hex, never key material). */
export interface RelayLogEntry {
  level: 'debug' | 'info' | 'warn' | 'error'
  event: string
  [field: string]: unknown
}

/** Where the relay reports what happens. */
export type RelayLog = (entry: RelayLogEntry) => void

/** Discards every entry. */
export const silentLog: RelayLog = () => {}

/**
 * Writes each entry as one JSON line (with an ISO time) to a stream.
 * @example
 * createRelay({ log: jsonLineLog(process.stderr) })
 */
export function jsonLineLog(stream: { write(line: string): unknown }, minLevel: RelayLogEntry['level'] = 'info'): RelayLog {
  const order = { debug: 0, info: 1, warn: 2, error: 3 }
  return (entry) => {
    if (order[entry.level] < order[minLevel]) return
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry }, (_k, v: unknown) => (v instanceof Error ? { message: v.message, stack: v.stack } : v))}\n`)
  }
}
