import type { CoveredHead } from '@mindsync/protocol'
import type Database from 'better-sqlite3'
import { bytesOf, coversFrom, openDatabase } from './sqliteOpen.js'
import { SQLITE_SCHEMA_VERSION, migrate } from './sqliteSchema.js'
import { adaptiveWrites } from './adaptiveWrites.js'
import type { RelayLog } from './log.js'
import { inlineWrites, startWriterThread } from './sqliteWriter.js'
import { prepareWrites } from './sqliteWrites.js'
import type { BaseSnapshot, RelayStorage, StoredItem } from './storage.js'

export { SQLITE_SCHEMA_VERSION }

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
  /**
   * Where writes run. `'auto'` (the default for a file): on the caller's
   * thread while commits are quick, moved for good to a writer thread once
   * they hold the event loop too long (adaptiveWrites.ts). `'thread'`: always
   * in a writer thread with its own connection, so a slow disk sync never
   * stops the event loop. `'inline'`: always on the caller's thread (and for
   * `:memory:`).
   */
  writer?: 'auto' | 'thread' | 'inline'
  /** Where the storage reports that its writes moved to a writer thread. */
  log?: RelayLog
}

/**
 * The default RelayStorage: one SQLite file (WAL mode), prepared statements,
 * one transaction per group commit.
 * @example
 * const storage = createSqliteRelayStorage('./data/relay.db')
 * const relay = createRelay({ storage })
 */
export function createSqliteRelayStorage(path: string, options: SqliteRelayStorageOptions = {}): RelayStorage {
  const synchronous = options.synchronous ?? 'full'
  const db: Database.Database = openDatabase(path, synchronous, migrate)
  const writer = path === ':memory:' ? 'inline' : (options.writer ?? 'auto')
  const writes =
    writer === 'inline'
      ? inlineWrites(prepareWrites(db))
      : writer === 'thread'
        ? startWriterThread(path, synchronous)
        : adaptiveWrites(prepareWrites(db), () => startWriterThread(path, synchronous), {
            onMoved: (reason) => options.log?.({ level: 'info', event: 'relay.storage.writer.thread', message: `writes moved to a writer thread: ${reason}` }),
          })
  const relayId = bytesOf((db.prepare("SELECT value FROM meta WHERE key = 'relay_id'").get() as { value: Buffer }).value)

  const q = {
    ops: db.prepare('SELECT bytes FROM ops WHERE vault_id = ? ORDER BY idx').pluck(),
    memberVaults: db.prepare('SELECT vault_id FROM vault_devices WHERE device_id = ? ORDER BY rowid').pluck(),
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
    docRowId: db.prepare('SELECT id FROM docs WHERE vault_id = ? AND doc_id = ?').pluck(),
    baseSeq: db.prepare('SELECT server_seq FROM base_snapshots WHERE doc = ?').pluck(),
    baseCovers: db.prepare('SELECT device_id AS deviceId, seq, hash FROM base_covers WHERE doc = ? ORDER BY device_id'),
    usage: db.prepare(
      `SELECT COUNT(*) AS envelopes, COALESCE(SUM(LENGTH(e.bytes)), 0) AS bytes FROM envelopes e JOIN docs d ON d.id = e.doc
       WHERE d.vault_id = ? AND d.doc_id = ?`,
    ),
    head: db.prepare('SELECT head FROM docs WHERE vault_id = ? AND doc_id = ?').pluck(),
    seen: db.prepare('SELECT device_id AS deviceId, last_seen AS lastSeen FROM devices_seen WHERE vault_id = ?'),
  }

  const coversOf = (doc: number): CoveredHead[] => coversFrom(q.baseCovers, doc)

  // One read transaction, so the base and its covers come from the same commit.
  const baseSnapshot = db.transaction((vaultId: Uint8Array, docId: Uint8Array): BaseSnapshot | undefined => {
    const doc = q.docRowId.get(vaultId, docId) as number | undefined
    const serverSeq = doc === undefined ? undefined : (q.baseSeq.get(doc) as number | undefined)
    return doc === undefined || serverSeq === undefined ? undefined : { serverSeq, covers: coversOf(doc) }
  })

  return {
    async relayId() {
      return relayId.slice()
    },

    async loadOps(vaultId) {
      const rows = q.ops.all(vaultId) as Buffer[]
      return rows.length === 0 ? undefined : rows.map(bytesOf)
    },

    appendOp(vaultId, index, op, addedDeviceId) {
      return writes.appendOp(vaultId, index, op, addedDeviceId)
    },

    async memberVaults(deviceId) {
      return (q.memberVaults.all(deviceId) as Buffer[]).map(bytesOf)
    },

    appendEnvelopes(batch) {
      return writes.appendEnvelopes(batch)
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

    touchDevice(vaultId, deviceId, timeMs) {
      return writes.touchDevice(vaultId, deviceId, timeMs)
    },

    async lastSeen(vaultId) {
      const rows = q.seen.all(vaultId) as { deviceId: Buffer; lastSeen: number }[]
      return new Map(rows.map((r) => [r.deviceId.toString('hex'), r.lastSeen]))
    },

    async close() {
      await writes.close()
      if (db.open) db.close()
    },
  }
}
