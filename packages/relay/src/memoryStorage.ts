import { randomBytes, toHex } from '@mindsync/crypto'
import type { EnvelopeRecord, RelayStorage, StoredItem } from './storage.js'

interface Row {
  serverSeq: number
  deviceHex: string
  seq: number
  bytes: Uint8Array
}

interface Doc {
  rows: Row[]
  /** `${deviceHex}:${seq}` → row */
  byDeviceSeq: Map<string, Row>
  /** deviceHex → row with the highest seq */
  heads: Map<string, Row>
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
      d = { rows: [], byDeviceSeq: new Map(), heads: new Map() }
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
      const seenInBatch = new Set<string>()
      for (const r of batch) {
        const k = `${docKey(r.vaultId, r.docId)}:${toHex(r.deviceId)}:${r.seq}`
        const doc = docs.get(docKey(r.vaultId, r.docId))
        if (seenInBatch.has(k) || doc?.byDeviceSeq.has(`${toHex(r.deviceId)}:${r.seq}`)) {
          throw new Error(`envelope (device ${toHex(r.deviceId)}, seq ${r.seq}) is already stored`)
        }
        seenInBatch.add(k)
      }
      return batch.map((r: EnvelopeRecord) => {
        const doc = docOf(docKey(r.vaultId, r.docId))
        const deviceHex = toHex(r.deviceId)
        const row: Row = { serverSeq: doc.rows.length + 1, deviceHex, seq: r.seq, bytes: r.bytes.slice() }
        doc.rows.push(row)
        doc.byDeviceSeq.set(`${deviceHex}:${r.seq}`, row)
        const head = doc.heads.get(deviceHex)
        if (!head || head.seq < r.seq) doc.heads.set(deviceHex, row)
        return row.serverSeq
      })
    },

    async readEnvelopes(vaultId, docId, afterServerSeq, limitCount, limitBytes) {
      check()
      const doc = docs.get(docKey(vaultId, docId))
      const out: StoredItem[] = []
      if (!doc) return out
      let bytes = 0
      // serverSeq n lives at rows[n - 1]
      for (let i = Math.max(0, afterServerSeq); i < doc.rows.length && out.length < limitCount; i++) {
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
      const row = docs.get(docKey(vaultId, docId))?.heads.get(toHex(deviceId))
      return row && { seq: row.seq, bytes: row.bytes.slice() }
    },

    async headSeq(vaultId, docId) {
      check()
      return docs.get(docKey(vaultId, docId))?.rows.length ?? 0
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
