import { randomBytes, toHex } from '@mindsync/crypto'
import { copyCovers, coveredSeqs, dominates } from './covers.js'
import type { BaseSnapshot, EnvelopeRecord, RelayStorage, StoredItem } from './storage.js'

interface Row {
  serverSeq: number
  deviceHex: string
  seq: number
  bytes: Uint8Array
}

interface Doc {
  /** Ascending by serverSeq; pruning removes rows, so serverSeq n is not at index n - 1. */
  rows: Row[]
  /** Highest serverSeq ever given: pruning never lowers it. */
  head: number
  /** Sum of the stored rows' sizes. */
  bytes: number
  /** `${deviceHex}:${seq}` → row */
  byDeviceSeq: Map<string, Row>
  /** deviceHex → seq and hash of its highest envelope, kept when the envelope is pruned */
  chainHeads: Map<string, { seq: number; hash: Uint8Array }>
  base?: BaseSnapshot
}

/** Index of the first row with serverSeq > after (rows ascend by serverSeq). */
function firstAfter(rows: readonly Row[], after: number): number {
  let lo = 0
  let hi = rows.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((rows[mid] as Row).serverSeq <= after) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Deletes the doc's envelopes stored before the base that it covers. */
function prune(doc: Doc, base: BaseSnapshot): void {
  const covered = coveredSeqs(base.covers)
  doc.rows = doc.rows.filter((row) => {
    if (row.serverSeq >= base.serverSeq || row.seq > (covered.get(row.deviceHex) ?? 0)) return true
    doc.byDeviceSeq.delete(`${row.deviceHex}:${row.seq}`)
    doc.bytes -= row.bytes.length
    return false
  })
}

/**
 * A RelayStorage held in memory: nothing survives the process. For tests and
 * for trying the relay out; it follows every rule of SPEC.md.
 * @example
 * const relay = createRelay({ storage: createMemoryRelayStorage(), port: 0 })
 */
export function createMemoryRelayStorage(): RelayStorage {
  const id = randomBytes(16)
  const ops = new Map<string, Uint8Array[]>()
  const vaultsOf = new Map<string, Uint8Array[]>()
  const docs = new Map<string, Doc>()
  const seen = new Map<string, Map<string, number>>()
  let closed = false

  const check = (): void => {
    if (closed) throw new Error('relay storage is closed')
  }
  const docKey = (vaultId: Uint8Array, docId: Uint8Array): string => `${toHex(vaultId)}:${toHex(docId)}`
  const docOf = (key: string): Doc => {
    let d = docs.get(key)
    if (!d) {
      d = { rows: [], head: 0, bytes: 0, byDeviceSeq: new Map(), chainHeads: new Map() }
      docs.set(key, d)
    }
    return d
  }

  return {
    async relayId() {
      check()
      return id.slice()
    },

    async loadOps(vaultId) {
      check()
      return ops.get(toHex(vaultId))?.map((b) => b.slice())
    },

    async appendOp(vaultId, index, op, addedDeviceId) {
      check()
      const key = toHex(vaultId)
      const log = ops.get(key) ?? []
      if (index !== log.length) return false
      log.push(op.slice())
      ops.set(key, log)
      if (addedDeviceId) {
        const list = vaultsOf.get(toHex(addedDeviceId)) ?? []
        if (!list.some((v) => toHex(v) === key)) list.push(vaultId.slice())
        vaultsOf.set(toHex(addedDeviceId), list)
      }
      return true
    },

    async memberVaults(deviceId) {
      check()
      return (vaultsOf.get(toHex(deviceId)) ?? []).map((v) => v.slice())
    },

    async appendEnvelopes(batch) {
      check()
      // Validate the whole batch first so a refusal stores nothing (atomic).
      const headsInBatch = new Map<string, number>()
      for (const r of batch) {
        const chain = `${docKey(r.vaultId, r.docId)}:${toHex(r.deviceId)}`
        const head = headsInBatch.get(chain) ?? docs.get(docKey(r.vaultId, r.docId))?.chainHeads.get(toHex(r.deviceId))?.seq ?? 0
        if (r.seq <= head) throw new Error(`envelope (device ${toHex(r.deviceId)}, seq ${r.seq}) is at or below the device's head ${head}: already stored`)
        headsInBatch.set(chain, r.seq)
      }
      return batch.map((r: EnvelopeRecord) => {
        const doc = docOf(docKey(r.vaultId, r.docId))
        const deviceHex = toHex(r.deviceId)
        const row: Row = { serverSeq: ++doc.head, deviceHex, seq: r.seq, bytes: r.bytes.slice() }
        doc.rows.push(row)
        doc.bytes += row.bytes.length
        doc.byDeviceSeq.set(`${deviceHex}:${r.seq}`, row)
        doc.chainHeads.set(deviceHex, { seq: r.seq, hash: r.hash.slice() })
        if (r.covers && dominates(r.covers, doc.base?.covers)) {
          doc.base = { serverSeq: row.serverSeq, covers: copyCovers(r.covers) }
          prune(doc, doc.base)
        }
        return row.serverSeq
      })
    },

    async baseSnapshot(vaultId, docId) {
      check()
      const base = docs.get(docKey(vaultId, docId))?.base
      return base && { serverSeq: base.serverSeq, covers: copyCovers(base.covers) }
    },

    async docUsage(vaultId, docId) {
      check()
      const doc = docs.get(docKey(vaultId, docId))
      return { envelopes: doc?.rows.length ?? 0, bytes: doc?.bytes ?? 0 }
    },

    async readEnvelopes(vaultId, docId, afterServerSeq, limitCount, limitBytes) {
      check()
      const doc = docs.get(docKey(vaultId, docId))
      const out: StoredItem[] = []
      if (!doc) return out
      let bytes = 0
      for (let i = firstAfter(doc.rows, afterServerSeq); i < doc.rows.length && out.length < limitCount; i++) {
        const row = doc.rows[i] as Row
        if (out.length > 0 && bytes + row.bytes.length > limitBytes) break
        bytes += row.bytes.length
        out.push({ serverSeq: row.serverSeq, envelope: row.bytes.slice() })
      }
      return out
    },

    async findEnvelope(vaultId, docId, deviceId, seq) {
      check()
      const row = docs.get(docKey(vaultId, docId))?.byDeviceSeq.get(`${toHex(deviceId)}:${seq}`)
      return row && { serverSeq: row.serverSeq, bytes: row.bytes.slice() }
    },

    async deviceHead(vaultId, docId, deviceId) {
      check()
      const head = docs.get(docKey(vaultId, docId))?.chainHeads.get(toHex(deviceId))
      return head && { seq: head.seq, hash: head.hash.slice() }
    },

    async headSeq(vaultId, docId) {
      check()
      return docs.get(docKey(vaultId, docId))?.head ?? 0
    },

    async touchDevice(vaultId, deviceId, timeMs) {
      check()
      const key = toHex(vaultId)
      const m = seen.get(key) ?? new Map<string, number>()
      const hex = toHex(deviceId)
      m.set(hex, Math.max(timeMs, m.get(hex) ?? 0))
      seen.set(key, m)
    },

    async lastSeen(vaultId) {
      check()
      return new Map(seen.get(toHex(vaultId)) ?? [])
    },

    async close() {
      closed = true
    },
  }
}
