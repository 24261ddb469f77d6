import type { LocalStore, OutboxEntry } from './localStore.js'
import { EnvelopeLog, assertBytes } from './memoryLog.js'

interface DocState {
  log: EnvelopeLog
  /** Own unacknowledged envelopes: seq to their row in the log (so acknowledging is O(1)). */
  outbox: Map<number, number>
  cursor: number
}

/** A LocalStore in memory: for tests and for apps that persist elsewhere. Values are copied in and out. */
export function createMemoryStore(): LocalStore {
  const meta = new Map<string, Uint8Array>()
  const ops: Uint8Array[] = []
  const docs = new Map<string, DocState>()
  const doc = (id: string): DocState => {
    let d = docs.get(id)
    if (!d) docs.set(id, (d = { log: new EnvelopeLog(), outbox: new Map(), cursor: 0 }))
    return d
  }
  return {
    async getMeta(key) {
      return meta.get(key)?.slice()
    },
    async setMeta(key, value) {
      meta.set(key, value.slice())
    },
    async deleteMeta(key) {
      meta.delete(key)
    },
    async listOps() {
      return ops.map((o) => o.slice())
    },
    async putOps(from, list) {
      if (from > ops.length) throw new RangeError(`putOps: index ${from} leaves a gap after ${ops.length} ops`)
      // Copy everything before storing anything, so a bad op leaves no trace.
      const copies = list.slice(ops.length - from).map((op) => op.slice())
      for (const op of copies) ops.push(op)
    },
    async addLocal(docId, item) {
      const d = doc(docId)
      d.outbox.set(item.seq, d.log.push(item.author, item.seq, null, item.envelope))
    },
    async addReceived(docId, items, cursor) {
      for (const it of items) assertBytes(it.envelope)
      const d = doc(docId)
      for (const it of items) d.log.push(it.author, it.seq, it.serverSeq, it.envelope)
      d.cursor = Math.max(d.cursor, cursor)
    },
    async listEnvelopes(docId) {
      const { log } = doc(docId)
      return Array.from({ length: log.length }, (_, row) => log.entry(row))
    },
    async listOutbox(docId) {
      const d = doc(docId)
      return [...d.outbox].sort((a, b) => a[0] - b[0]).map(([seq, row]): OutboxEntry => ({ seq, envelope: d.log.envelope(row) }))
    },
    async rewriteOutbox(docId, items) {
      for (const it of items) assertBytes(it.envelope)
      const d = doc(docId)
      for (const it of items) {
        const row = d.outbox.get(it.seq)
        if (row !== undefined) d.log.replace(row, it.envelope)
      }
    },
    async acknowledge(docId, seq, serverSeq) {
      const d = doc(docId)
      const row = d.outbox.get(seq)
      if (row === undefined) return
      d.outbox.delete(seq)
      d.log.setServerSeq(row, serverSeq)
    },
    async compact(docId, snapshot, covers) {
      const d = docs.get(docId)
      if (!d) return 0
      // The highest covered seq per author, so one pass over the log decides every envelope.
      const coveredSeq = new Map<string, number>()
      for (const c of covers) coveredSeq.set(c.author, Math.max(c.seq, coveredSeq.get(c.author) ?? -Infinity))
      const pending = new Set(d.outbox.values())
      const { log } = d
      const before = log.length
      const moved = log.retain((row) => {
        const author = log.author(row)
        const seq = log.seq(row)
        const covered = seq <= (coveredSeq.get(author) ?? -Infinity) && !(author === snapshot.author && seq === snapshot.seq)
        return !covered || pending.has(row)
      })
      for (const [seq, row] of d.outbox) d.outbox.set(seq, moved[row] as number)
      return before - log.length
    },
    async getCursor(docId) {
      return doc(docId).cursor
    },
    async close() {},
  }
}
