import type { CoveredHead } from '@mindsync/protocol'
import type Database from 'better-sqlite3'
import { copyCovers, dominates } from './covers.js'
import { coversFrom } from './sqliteOpen.js'
import type { EnvelopeRecord } from './storage.js'

/** Every write the relay makes, on one connection: run here, or in the writer thread (sqliteWriter.ts). */
export interface SqliteWrites {
  /** One transaction (one disk sync with `synchronous = FULL`): the envelopes, their chain heads, a dominating snapshot's base and what it prunes. Returns their serverSeqs. */
  appendEnvelopes(batch: readonly EnvelopeRecord[]): number[]
  /** Compare-and-set on the op count, taking the write lock before reading it. */
  appendOp(vaultId: Uint8Array, index: number, op: Uint8Array, addedDeviceId: Uint8Array | undefined): boolean
  touchDevice(vaultId: Uint8Array, deviceId: Uint8Array, timeMs: number): void
}

export function prepareWrites(db: Database.Database): SqliteWrites {
  const q = {
    opCount: db.prepare('SELECT COUNT(*) FROM ops WHERE vault_id = ?').pluck(),
    insertOp: db.prepare('INSERT INTO ops (vault_id, idx, bytes) VALUES (?, ?, ?)'),
    insertMember: db.prepare('INSERT OR IGNORE INTO vault_devices (device_id, vault_id, added_idx) VALUES (?, ?, ?)'),
    bumpHead: db.prepare(
      'INSERT INTO docs (vault_id, doc_id, head) VALUES (?, ?, 1) ON CONFLICT (vault_id, doc_id) DO UPDATE SET head = head + 1 RETURNING id, head',
    ),
    insertEnvelope: db.prepare('INSERT INTO envelopes (doc, server_seq, device_id, seq, kind, bytes) VALUES (?, ?, ?, ?, ?, ?)'),
    chainHead: db.prepare('SELECT seq FROM chain_heads WHERE doc = ? AND device_id = ?').pluck(),
    setChainHead: db.prepare(
      `INSERT INTO chain_heads (doc, device_id, seq, hash) VALUES (?, ?, ?, ?)
       ON CONFLICT (doc, device_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
    ),
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
    touch: db.prepare(
      `INSERT INTO devices_seen (vault_id, device_id, last_seen) VALUES (?, ?, ?)
       ON CONFLICT (vault_id, device_id) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen)`,
    ),
  }

  const appendOp = db.transaction((vaultId: Uint8Array, index: number, op: Uint8Array, added: Uint8Array | undefined): boolean => {
    if ((q.opCount.get(vaultId) as number) !== index) return false
    q.insertOp.run(vaultId, index, op)
    if (added) q.insertMember.run(added, vaultId, index)
    return true
  })

  const coversOf = (doc: number): CoveredHead[] => coversFrom(q.baseCovers, doc)

  /** Makes the snapshot at `serverSeq` the doc's base when it dominates the current one, and prunes what it covers. */
  const rebaseIfDominating = (doc: number, serverSeq: number, covers: readonly CoveredHead[]): void => {
    const current = q.baseSeq.get(doc) === undefined ? undefined : coversOf(doc)
    if (!dominates(covers, current)) return
    q.setBase.run(doc, serverSeq)
    q.clearCovers.run(doc)
    for (const c of copyCovers(covers)) q.insertCover.run(doc, c.deviceId, c.seq, c.hash)
    q.prune.run(doc, serverSeq)
  }

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
    appendEnvelopes: (batch) => (batch.length === 0 ? [] : appendEnvelopes.immediate(batch)),
    // IMMEDIATE takes the write lock before reading the count, so two
    // processes sharing the file cannot both win the compare-and-set.
    appendOp: (vaultId, index, op, added) => appendOp.immediate(vaultId, index, op, added),
    touchDevice(vaultId, deviceId, timeMs) {
      q.touch.run(vaultId, deviceId, Math.floor(timeMs))
    },
  }
}
