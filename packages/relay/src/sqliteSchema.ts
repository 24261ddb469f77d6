import { randomBytes } from '@mindsync/crypto'
import { decodeEnvelope, envelopeHash } from '@mindsync/protocol'
import type Database from 'better-sqlite3'
import { bytesOf } from './sqliteOpen.js'

/** SQL to run, or a step that needs code. */
type Migration = string | ((db: Database.Database) => void)

// Each entry upgrades the schema by one version; never edit a shipped entry.
const MIGRATIONS: readonly Migration[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
  CREATE TABLE ops (
    vault_id BLOB NOT NULL, idx INTEGER NOT NULL, bytes BLOB NOT NULL,
    PRIMARY KEY (vault_id, idx));
  CREATE TABLE vault_devices (
    device_id BLOB NOT NULL, vault_id BLOB NOT NULL, added_idx INTEGER NOT NULL,
    PRIMARY KEY (device_id, vault_id));
  CREATE TABLE docs (
    id INTEGER PRIMARY KEY, vault_id BLOB NOT NULL, doc_id BLOB NOT NULL, head INTEGER NOT NULL,
    UNIQUE (vault_id, doc_id));
  CREATE TABLE envelopes (
    doc INTEGER NOT NULL REFERENCES docs (id), server_seq INTEGER NOT NULL,
    device_id BLOB NOT NULL, seq INTEGER NOT NULL, kind INTEGER NOT NULL, bytes BLOB NOT NULL,
    PRIMARY KEY (doc, server_seq));
  CREATE UNIQUE INDEX envelopes_by_device ON envelopes (doc, device_id, seq);
  CREATE TABLE devices_seen (
    vault_id BLOB NOT NULL, device_id BLOB NOT NULL, last_seen INTEGER NOT NULL,
    PRIMARY KEY (vault_id, device_id));
  `,
  // 2: snapshots and pruning. Chain heads outlive the envelopes they name;
  // the base snapshot of a doc and what it covers decide what is pruned.
  (db) => {
    db.exec(`
    CREATE TABLE chain_heads (
      doc INTEGER NOT NULL REFERENCES docs (id), device_id BLOB NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL,
      PRIMARY KEY (doc, device_id));
    CREATE TABLE base_snapshots (doc INTEGER PRIMARY KEY REFERENCES docs (id), server_seq INTEGER NOT NULL);
    CREATE TABLE base_covers (
      doc INTEGER NOT NULL REFERENCES docs (id), device_id BLOB NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL,
      PRIMARY KEY (doc, device_id));
    `)
    // Nothing was pruned before this version, so every head is still stored;
    // its hash is computed once here (the only place the storage decodes an envelope).
    const heads = db.prepare('SELECT doc, device_id AS deviceId, MAX(seq) AS seq FROM envelopes GROUP BY doc, device_id').all() as { doc: number; deviceId: Buffer; seq: number }[]
    const bytes = db.prepare('SELECT bytes FROM envelopes WHERE doc = ? AND device_id = ? AND seq = ?').pluck()
    const insert = db.prepare('INSERT INTO chain_heads (doc, device_id, seq, hash) VALUES (?, ?, ?, ?)')
    for (const h of heads) {
      insert.run(h.doc, h.deviceId, h.seq, envelopeHash(decodeEnvelope(bytesOf(bytes.get(h.doc, h.deviceId, h.seq) as Buffer))))
    }
  },
]

/** The schema version this code writes. */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length


export function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)')
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null }
  const current = row.v ?? 0
  if (current > MIGRATIONS.length) {
    throw new Error(`relay database has schema version ${current}, newer than the ${MIGRATIONS.length} this relay understands; upgrade the relay`)
  }
  db.transaction(() => {
    for (let v = current; v < MIGRATIONS.length; v++) {
      const step = MIGRATIONS[v] as Migration
      if (typeof step === 'string') db.exec(step)
      else step(db)
      db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(v + 1, Date.now())
    }
    if (!db.prepare("SELECT 1 FROM meta WHERE key = 'relay_id'").get()) {
      db.prepare("INSERT INTO meta (key, value) VALUES ('relay_id', ?)").run(randomBytes(16))
    }
  }).immediate()
}
