import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import type { LocalEnvelope, LocalStore, OutboxEntry } from '@mindsync/client'
import Database from 'better-sqlite3'
import { migrate } from './schema.js'

/** Options of the SQLite LocalStore. */
export interface SqliteStoreOptions {
  /**
   * SQLite's `synchronous` setting. `'full'` (the default) syncs the WAL on
   * every commit, so a change the app saw written survives a power cut.
   * `'normal'` skips that sync: still safe when only the app crashes, but
   * the last commits before a power cut or OS crash may be lost.
   */
  synchronous?: 'full' | 'normal'
}

// better-sqlite3 returns a fresh Buffer per read; hand out a plain Uint8Array view of it.
const bytesOf = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

function checkBytes(value: unknown, what: string): void {
  if (!(value instanceof Uint8Array)) throw new TypeError(`store-sqlite: ${what} must be a Uint8Array`)
}

function checkCount(value: unknown, what: string): void {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new RangeError(`store-sqlite: ${what} must be a non-negative integer, got ${String(value)}`)
  }
}

/** An envelope's author and seq: how compact() names the snapshot and what it covers. */
type AuthorSeq = { author: string; seq: number }

function checkAuthorSeq(value: AuthorSeq, what: string): void {
  if (typeof value?.author !== 'string') throw new TypeError(`store-sqlite: ${what}.author must be a string`)
  checkCount(value.seq, `${what}.seq`)
}

const inMemory = (path: string) => path === '' || path === ':memory:'

/**
 * Creates the parent folder, and the file with mode 0600 so that no other
 * user can read the keys it holds. SQLite gives the -wal and -shm files
 * the mode of the database file.
 */
function prepareFile(path: string): void {
  if (inMemory(path)) return
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  closeSync(openSync(path, 'a', 0o600))
  if (process.platform === 'win32') return
  for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, 0o600)
}

function openDatabase(path: string, options: SqliteStoreOptions): Database.Database {
  prepareFile(path)
  const db = new Database(path)
  try {
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`)
    db.pragma('busy_timeout = 5000')
    migrate(db, path)
  } catch (e) {
    db.close()
    throw e
  }
  return db
}

/**
 * Deletes one covered author's envelopes of a doc, up to its covered seq,
 * except the snapshot and rows still in the outbox. Runs on the
 * envelopes_by_author index (doc, author, seq).
 */
export const COMPACT_AUTHOR_SQL = `DELETE FROM envelopes
  WHERE doc = @doc AND author = @author AND seq <= @seq AND outbox = 0
    AND NOT (author = @snapshotAuthor AND seq = @snapshotSeq)`

function statements(db: Database.Database) {
  return {
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
    setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    deleteMeta: db.prepare('DELETE FROM meta WHERE key = ?'),
    listOps: db.prepare('SELECT bytes FROM ops ORDER BY idx').pluck(),
    opCount: db.prepare('SELECT COUNT(*) FROM ops').pluck(),
    insertOp: db.prepare('INSERT INTO ops (idx, bytes) VALUES (?, ?)'),
    insertEnvelope: db.prepare('INSERT INTO envelopes (doc, author, seq, server_seq, outbox, bytes) VALUES (?, ?, ?, ?, ?, ?)'),
    listEnvelopes: db.prepare('SELECT author, seq, server_seq AS serverSeq, bytes FROM envelopes WHERE doc = ? ORDER BY id'),
    // "outbox = 1" as written here lets SQLite use the partial index.
    listOutbox: db.prepare('SELECT seq, bytes FROM envelopes WHERE doc = ? AND outbox = 1 ORDER BY seq, id'),
    acknowledge: db.prepare('UPDATE envelopes SET outbox = 0, server_seq = ? WHERE doc = ? AND seq = ? AND outbox = 1'),
    rewriteOutbox: db.prepare('UPDATE envelopes SET bytes = ? WHERE doc = ? AND seq = ? AND outbox = 1'),
    compactAuthor: db.prepare(COMPACT_AUTHOR_SQL),
    getCursor: db.prepare('SELECT cursor FROM cursors WHERE doc = ?').pluck(),
    moveCursor: db.prepare(
      'INSERT INTO cursors (doc, cursor) VALUES (?, ?) ON CONFLICT (doc) DO UPDATE SET cursor = MAX(cursor, excluded.cursor)',
    ),
  }
}

/**
 * A LocalStore in one SQLite file (WAL, `synchronous=FULL` by default):
 * every write is one transaction, committed before its promise resolves.
 * Opens synchronously; creates the folder and the file (mode 0600) if missing.
 * @example
 * const store = createSqliteStore(join(homedir(), '.mindsync', 'device.db'))
 * const client = await createSyncClient({ store, transport, url })
 */
export function createSqliteStore(path: string, options: SqliteStoreOptions = {}): LocalStore {
  const db = openDatabase(path, options)
  const q = statements(db)
  const open = (): void => {
    if (!db.open) throw new Error(`store-sqlite: the store at ${path} is closed`)
  }

  const putOps = db.transaction((from: number, ops: Uint8Array[]) => {
    const count = q.opCount.get() as number
    if (from > count) throw new RangeError(`store-sqlite: putOps at index ${from} leaves a gap after ${count} ops`)
    for (let i = count - from; i < ops.length; i++) q.insertOp.run(from + i, ops[i])
  })

  const rewriteOutbox = db.transaction((docId: string, items: OutboxEntry[]) => {
    for (const it of items) q.rewriteOutbox.run(it.envelope, docId, it.seq)
  })
  const compact = db.transaction((docId: string, snapshot: AuthorSeq, covers: AuthorSeq[]): number => {
    let deleted = 0
    // An author listed twice is deleted up to each seq in turn: its highest wins.
    for (const c of covers) {
      deleted += q.compactAuthor.run({ doc: docId, author: c.author, seq: c.seq, snapshotAuthor: snapshot.author, snapshotSeq: snapshot.seq }).changes
    }
    return deleted
  })
  const addReceived = db.transaction((docId: string, items: LocalEnvelope[], cursor: number) => {
    for (const it of items) q.insertEnvelope.run(docId, it.author, it.seq, it.serverSeq, 0, it.envelope)
    q.moveCursor.run(docId, cursor)
  })

  return {
    async getMeta(key) {
      open()
      const value = q.getMeta.get(key) as Buffer | undefined
      return value && bytesOf(value)
    },
    async setMeta(key, value) {
      open()
      checkBytes(value, 'a meta value')
      q.setMeta.run(key, value)
    },
    async deleteMeta(key) {
      open()
      q.deleteMeta.run(key)
    },
    async listOps() {
      open()
      return (q.listOps.all() as Buffer[]).map(bytesOf)
    },
    async putOps(from, ops) {
      open()
      checkCount(from, 'putOps: from')
      ops.forEach((op, i) => checkBytes(op, `putOps: op ${i}`))
      putOps.immediate(from, ops)
    },
    async addLocal(docId, item) {
      open()
      checkBytes(item.envelope, 'addLocal: envelope')
      // One row is both the log entry and the outbox entry, so one statement is atomic.
      q.insertEnvelope.run(docId, item.author, item.seq, null, 1, item.envelope)
    },
    async addReceived(docId, items, cursor) {
      open()
      checkCount(cursor, 'addReceived: cursor')
      items.forEach((it, i) => checkBytes(it.envelope, `addReceived: envelope ${i}`))
      addReceived.immediate(docId, items, cursor)
    },
    async listEnvelopes(docId) {
      open()
      const rows = q.listEnvelopes.all(docId) as { author: string; seq: number; serverSeq: number | null; bytes: Buffer }[]
      return rows.map((r): LocalEnvelope => ({ author: r.author, seq: r.seq, serverSeq: r.serverSeq, envelope: bytesOf(r.bytes) }))
    },
    async listOutbox(docId) {
      open()
      const rows = q.listOutbox.all(docId) as { seq: number; bytes: Buffer }[]
      return rows.map((r): OutboxEntry => ({ seq: r.seq, envelope: bytesOf(r.bytes) }))
    },
    async rewriteOutbox(docId, items) {
      open()
      items.forEach((it, i) => checkBytes(it.envelope, `rewriteOutbox: envelope ${i}`))
      rewriteOutbox.immediate(docId, items)
    },
    async acknowledge(docId, seq, serverSeq) {
      open()
      // Only rows still in the outbox are own envelopes: another author's
      // envelope with the same seq is never touched, and a repeated
      // acknowledgement changes nothing.
      q.acknowledge.run(serverSeq, docId, seq)
    },
    async compact(docId, snapshot, covers) {
      open()
      checkAuthorSeq(snapshot, 'compact: snapshot')
      covers.forEach((c, i) => checkAuthorSeq(c, `compact: covers[${i}]`))
      return compact.immediate(docId, snapshot, covers)
    },
    async getCursor(docId) {
      open()
      return (q.getCursor.get(docId) as number | undefined) ?? 0
    },
    async close() {
      if (db.open) db.close()
    },
  }
}
