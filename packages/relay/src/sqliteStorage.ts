import { randomBytes } from '@mindsync/crypto'
import { decodeEnvelope, envelopeHash } from '@mindsync/protocol'
import type { CoveredHead } from '@mindsync/protocol'
import Database from 'better-sqlite3'
import { copyCovers, dominates } from './covers.js'
import type { BaseSnapshot, EnvelopeRecord, RelayStorage, StoredItem } from './storage.js'

/** Options of the SQLite storage. */
export interface SqliteRelayStorageOptions {
  /**
   * SQLite's `synchronous` setting. `'full'` (the default) syncs the WAL to
   * disk on every commit, so an acknowledged envelope survives a power cut
   * or an OS crash. `'normal'` skips that sync: still safe when only the
   * relay process crashes, but the last commits before a power cut may be
   * lost although devices were told they are stored. The group commit makes
   * one sync cover every push of an event-loop turn, so `'full'` costs
   * little; choose `'normal'` only on storage with its own power-loss
   * protection.
   */
  synchronous?: 'full' | 'normal'
}

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

// better-sqlite3 returns Buffers; hand out plain Uint8Arrays (a view, no copy).
const bytesOf = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

function migrate(db: Database.Database): void {
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

/**
 * The default RelayStorage: one SQLite file (WAL mode), prepared statements,
 * one transaction per group commit.
 * @example
 * const storage = createSqliteRelayStorage('./data/relay.db')
 * const relay = createRelay({ storage })
 */
export function createSqliteRelayStorage(path: string, options: SqliteRelayStorageOptions = {}): RelayStorage {
  const db = new Database(path)
  try {
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`)
    db.pragma('busy_timeout = 5000')
    db.pragma('foreign_keys = ON')
    migrate(db)
  } catch (e) {
    db.close()
    throw e
  }
  const relayId = bytesOf((db.prepare("SELECT value FROM meta WHERE key = 'relay_id'").get() as { value: Buffer }).value)

  const q = {
    ops: db.prepare('SELECT bytes FROM ops WHERE vault_id = ? ORDER BY idx').pluck(),
    opCount: db.prepare('SELECT COUNT(*) FROM ops WHERE vault_id = ?').pluck(),
    insertOp: db.prepare('INSERT INTO ops (vault_id, idx, bytes) VALUES (?, ?, ?)'),
    insertMember: db.prepare('INSERT OR IGNORE INTO vault_devices (device_id, vault_id, added_idx) VALUES (?, ?, ?)'),
    memberVaults: db.prepare('SELECT vault_id FROM vault_devices WHERE device_id = ? ORDER BY rowid').pluck(),
    bumpHead: db.prepare(
      'INSERT INTO docs (vault_id, doc_id, head) VALUES (?, ?, 1) ON CONFLICT (vault_id, doc_id) DO UPDATE SET head = head + 1 RETURNING id, head',
    ),
    insertEnvelope: db.prepare('INSERT INTO envelopes (doc, server_seq, device_id, seq, kind, bytes) VALUES (?, ?, ?, ?, ?, ?)'),
    read: db.prepare(
      `SELECT e.server_seq AS serverSeq, e.bytes AS bytes FROM envelopes e JOIN docs d ON d.id = e.doc
       WHERE d.vault_id = ? AND d.doc_id = ? AND e.server_seq > ? ORDER BY e.server_seq LIMIT ?`,
    ),
    find: db.prepare(
      `SELECT e.server_seq AS serverSeq, e.bytes AS bytes FROM envelopes e JOIN docs d ON d.id = e.doc
       WHERE d.vault_id = ? AND d.doc_id = ? AND e.device_id = ? AND e.seq = ?`,
    ),
    deviceHead: db.prepare(
      `SELECT h.seq AS seq, h.hash AS hash FROM chain_heads h JOIN docs d ON d.id = h.doc
       WHERE d.vault_id = ? AND d.doc_id = ? AND h.device_id = ?`,
    ),
    chainHead: db.prepare('SELECT seq FROM chain_heads WHERE doc = ? AND device_id = ?').pluck(),
    setChainHead: db.prepare(
      `INSERT INTO chain_heads (doc, device_id, seq, hash) VALUES (?, ?, ?, ?)
       ON CONFLICT (doc, device_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
    ),
    docRowId: db.prepare('SELECT id FROM docs WHERE vault_id = ? AND doc_id = ?').pluck(),
    baseSeq: db.prepare('SELECT server_seq FROM base_snapshots WHERE doc = ?').pluck(),
    baseCovers: db.prepare('SELECT device_id AS deviceId, seq, hash FROM base_covers WHERE doc = ? ORDER BY device_id'),
    setBase: db.prepare(
      'INSERT INTO base_snapshots (doc, server_seq) VALUES (?, ?) ON CONFLICT (doc) DO UPDATE SET server_seq = excluded.server_seq',
    ),
    clearCovers: db.prepare('DELETE FROM base_covers WHERE doc = ?'),
    insertCover: db.prepare('INSERT INTO base_covers (doc, device_id, seq, hash) VALUES (?, ?, ?, ?)'),
    // A device the base does not cover has no row: the comparison is NULL and keeps the envelope.
    prune: db.prepare(
      `DELETE FROM envelopes WHERE doc = ? AND server_seq < ?
       AND seq <= (SELECT c.seq FROM base_covers c WHERE c.doc = envelopes.doc AND c.device_id = envelopes.device_id)`,
    ),
    usage: db.prepare(
      `SELECT COUNT(*) AS envelopes, COALESCE(SUM(LENGTH(e.bytes)), 0) AS bytes FROM envelopes e JOIN docs d ON d.id = e.doc
       WHERE d.vault_id = ? AND d.doc_id = ?`,
    ),
    head: db.prepare('SELECT head FROM docs WHERE vault_id = ? AND doc_id = ?').pluck(),
    touch: db.prepare(
      `INSERT INTO devices_seen (vault_id, device_id, last_seen) VALUES (?, ?, ?)
       ON CONFLICT (vault_id, device_id) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen)`,
    ),
    seen: db.prepare('SELECT device_id AS deviceId, last_seen AS lastSeen FROM devices_seen WHERE vault_id = ?'),
  }

  const appendOp = db.transaction((vaultId: Uint8Array, index: number, op: Uint8Array, added: Uint8Array | undefined): boolean => {
    if ((q.opCount.get(vaultId) as number) !== index) return false
    q.insertOp.run(vaultId, index, op)
    if (added) q.insertMember.run(added, vaultId, index)
    return true
  })

  const coversOf = (doc: number): CoveredHead[] =>
    (q.baseCovers.all(doc) as { deviceId: Buffer; seq: number; hash: Buffer }[]).map((c) => ({ deviceId: bytesOf(c.deviceId), seq: c.seq, hash: bytesOf(c.hash) }))

  /** Makes the snapshot at `serverSeq` the doc's base when it dominates the current one, and prunes what it covers. */
  const rebaseIfDominating = (doc: number, serverSeq: number, covers: readonly CoveredHead[]): void => {
    const current = q.baseSeq.get(doc) === undefined ? undefined : coversOf(doc)
    if (!dominates(covers, current)) return
    q.setBase.run(doc, serverSeq)
    q.clearCovers.run(doc)
    for (const c of copyCovers(covers)) q.insertCover.run(doc, c.deviceId, c.seq, c.hash)
    q.prune.run(doc, serverSeq)
  }

  // One read transaction, so the base and its covers come from the same commit.
  const baseSnapshot = db.transaction((vaultId: Uint8Array, docId: Uint8Array): BaseSnapshot | undefined => {
    const doc = q.docRowId.get(vaultId, docId) as number | undefined
    const serverSeq = doc === undefined ? undefined : (q.baseSeq.get(doc) as number | undefined)
    return doc === undefined || serverSeq === undefined ? undefined : { serverSeq, covers: coversOf(doc) }
  })

  // Append, heads, base and prune commit together: a crash leaves all or nothing.
  const appendEnvelopes = db.transaction((batch: readonly EnvelopeRecord[]): number[] =>
    batch.map((r) => {
      const doc = q.bumpHead.get(r.vaultId, r.docId) as { id: number; head: number }
      const head = (q.chainHead.get(doc.id, r.deviceId) as number | undefined) ?? 0
      if (r.seq <= head) throw new Error(`envelope (seq ${r.seq}) is at or below the device's head ${head}: already stored`)
      q.insertEnvelope.run(doc.id, doc.head, r.deviceId, r.seq, r.kind, r.bytes)
      q.setChainHead.run(doc.id, r.deviceId, r.seq, r.hash)
      if (r.covers) rebaseIfDominating(doc.id, doc.head, r.covers)
      return doc.head
    }),
  )

  return {
    async relayId() {
      return relayId.slice()
    },

    async loadOps(vaultId) {
      const rows = q.ops.all(vaultId) as Buffer[]
      return rows.length === 0 ? undefined : rows.map(bytesOf)
    },

    async appendOp(vaultId, index, op, addedDeviceId) {
      // IMMEDIATE takes the write lock before reading the count, so two
      // processes sharing the file cannot both win the compare-and-set.
      return appendOp.immediate(vaultId, index, op, addedDeviceId)
    },

    async memberVaults(deviceId) {
      return (q.memberVaults.all(deviceId) as Buffer[]).map(bytesOf)
    },

    async appendEnvelopes(batch) {
      if (batch.length === 0) return []
      return appendEnvelopes.immediate(batch)
    },

    async readEnvelopes(vaultId, docId, afterServerSeq, limitCount, limitBytes) {
      const out: StoredItem[] = []
      if (limitCount <= 0) return out
      let total = 0
      for (const row of q.read.iterate(vaultId, docId, afterServerSeq, limitCount) as IterableIterator<{ serverSeq: number; bytes: Buffer }>) {
        if (out.length > 0 && total + row.bytes.length > limitBytes) break
        total += row.bytes.length
        out.push({ serverSeq: row.serverSeq, envelope: bytesOf(row.bytes) })
      }
      return out
    },

    async findEnvelope(vaultId, docId, deviceId, seq) {
      const row = q.find.get(vaultId, docId, deviceId, seq) as { serverSeq: number; bytes: Buffer } | undefined
      return row && { serverSeq: row.serverSeq, bytes: bytesOf(row.bytes) }
    },

    async deviceHead(vaultId, docId, deviceId) {
      const row = q.deviceHead.get(vaultId, docId, deviceId) as { seq: number; hash: Buffer } | undefined
      return row && { seq: row.seq, hash: bytesOf(row.hash) }
    },

    async baseSnapshot(vaultId, docId) {
      return baseSnapshot(vaultId, docId)
    },

    async docUsage(vaultId, docId) {
      return q.usage.get(vaultId, docId) as { envelopes: number; bytes: number }
    },

    async headSeq(vaultId, docId) {
      return (q.head.get(vaultId, docId) as number | undefined) ?? 0
    },

    async touchDevice(vaultId, deviceId, timeMs) {
      q.touch.run(vaultId, deviceId, Math.floor(timeMs))
    },

    async lastSeen(vaultId) {
      const rows = q.seen.all(vaultId) as { deviceId: Buffer; lastSeen: number }[]
      return new Map(rows.map((r) => [r.deviceId.toString('hex'), r.lastSeen]))
    },

    async close() {
      if (db.open) db.close()
    },
  }
}
