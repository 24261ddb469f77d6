// What both the event loop's connection and the writer thread need to open the
// relay's file. Nothing here imports the crypto or protocol packages: the
// writer thread loads only this, the writes and better-sqlite3.
import type { CoveredHead } from '@mindsync/protocol'
import Database from 'better-sqlite3'

// better-sqlite3 returns Buffers; hand out plain Uint8Arrays (a view, no copy).
export const bytesOf = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

/** Opens the file with the relay's settings (WAL, the chosen `synchronous`); `migrate`, when given, brings the schema up to date. */
export function openDatabase(path: string, synchronous: 'full' | 'normal' = 'full', migrate?: (db: Database.Database) => void): Database.Database {
  const db = new Database(path)
  try {
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`)
    db.pragma('busy_timeout = 5000')
    db.pragma('foreign_keys = ON')
    migrate?.(db)
  } catch (e) {
    db.close()
    throw e
  }
  return db
}

/** A doc's base covers, read with `SELECT device_id AS deviceId, seq, hash FROM base_covers WHERE doc = ?`. */
export function coversFrom(statement: Database.Statement, doc: number): CoveredHead[] {
  return (statement.all(doc) as { deviceId: Buffer; seq: number; hash: Buffer }[]).map((c) => ({ deviceId: bytesOf(c.deviceId), seq: c.seq, hash: bytesOf(c.hash) }))
}
