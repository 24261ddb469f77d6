import type Database from 'better-sqlite3'

/**
 * Marks the file as a mindsync device store ("MSDS"), so that opening a
 * relay database or some other SQLite file by mistake fails clearly
 * instead of with a missing-table error.
 */
export const APPLICATION_ID = 0x4d534453

// Each entry upgrades the schema by one version; never edit a shipped entry.
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
  CREATE TABLE ops (idx INTEGER PRIMARY KEY, bytes BLOB NOT NULL);
  -- One row per envelope of a doc's log; id gives the order stored.
  -- AUTOINCREMENT so that ids are never reused, even once pruning deletes
  -- the newest rows. outbox = 1 marks own envelopes not yet acknowledged.
  CREATE TABLE envelopes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc TEXT NOT NULL,
    author TEXT NOT NULL,
    seq INTEGER NOT NULL,
    server_seq INTEGER,
    outbox INTEGER NOT NULL DEFAULT 0 CHECK (outbox IN (0, 1)),
    bytes BLOB NOT NULL);
  CREATE INDEX envelopes_by_doc ON envelopes (doc, id);
  CREATE INDEX envelopes_outbox ON envelopes (doc, seq) WHERE outbox = 1;
  CREATE TABLE cursors (doc TEXT PRIMARY KEY, cursor INTEGER NOT NULL);
  `,
  `
  -- compact() deletes, per covered author, a range of seqs of one doc.
  CREATE INDEX envelopes_by_author ON envelopes (doc, author, seq);
  `,
]

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length

/**
 * Brings the file's schema up to SCHEMA_VERSION in one transaction. Refuses
 * a file written by a newer version, and a file that is some other
 * application's database.
 */
export function migrate(db: Database.Database, path: string): void {
  db.transaction(() => {
    const appId = db.pragma('application_id', { simple: true }) as number
    const tables = db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").pluck().get() as number
    if (appId !== APPLICATION_ID && (appId !== 0 || tables > 0)) {
      throw new Error(`${path} is not a mindsync device store (it holds another application's data)`)
    }
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)')
    const current = (db.prepare('SELECT MAX(version) FROM schema_version').pluck().get() as number | null) ?? 0
    if (current > MIGRATIONS.length) {
      throw new Error(`${path} has schema version ${current}, newer than the ${MIGRATIONS.length} this @mindsync/store-sqlite understands; upgrade it`)
    }
    const record = db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)')
    for (let v = current; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v] as string)
      record.run(v + 1, Date.now())
    }
    if (appId === 0) db.pragma(`application_id = ${APPLICATION_ID}`)
  }).immediate()
}
