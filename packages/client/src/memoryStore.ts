import type { LocalEnvelope, LocalStore, OutboxEntry } from './localStore.js'

interface DocState {
  envelopes: LocalEnvelope[]
  /** Own unacknowledged envelopes by seq, with the log entry they share (so acknowledging is O(1)). */
  outbox: Map<number, OutboxEntry & { logged: LocalEnvelope }>
  cursor: number
}

/** A LocalStore in memory: for tests and for apps that persist elsewhere. Values are copied in and out. */
export function createMemoryStore(): LocalStore {
  const meta = new Map<string, Uint8Array>()
  const ops: Uint8Array[] = []
  const docs = new Map<string, DocState>()
  const doc = (id: string): DocState => {
    let d = docs.get(id)
    if (!d) docs.set(id, (d = { envelopes: [], outbox: new Map(), cursor: 0 }))
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
      const logged: LocalEnvelope = { author: item.author, seq: item.seq, serverSeq: null, envelope: item.envelope.slice() }
      d.envelopes.push(logged)
      d.outbox.set(item.seq, { seq: item.seq, envelope: item.envelope.slice(), logged })
    },
    async addReceived(docId, items, cursor) {
      const copies = items.map((it) => ({ ...it, envelope: it.envelope.slice() }))
      const d = doc(docId)
      for (const it of copies) d.envelopes.push(it)
      d.cursor = Math.max(d.cursor, cursor)
    },
    async listEnvelopes(docId) {
      return doc(docId).envelopes.map((e) => ({ ...e, envelope: e.envelope.slice() }))
    },
    async listOutbox(docId) {
      return [...doc(docId).outbox.values()].sort((a, b) => a.seq - b.seq).map((e) => ({ seq: e.seq, envelope: e.envelope.slice() }))
    },
    async rewriteOutbox(docId, items) {
      const d = doc(docId)
      const copies = items.map((it) => ({ seq: it.seq, envelope: it.envelope.slice() }))
      for (const it of copies) {
        const entry = d.outbox.get(it.seq)
        if (!entry) continue
        entry.envelope = it.envelope
        entry.logged.envelope = it.envelope.slice()
      }
    },
    async acknowledge(docId, seq, serverSeq) {
      const d = doc(docId)
      const entry = d.outbox.get(seq)
      if (!entry) return
      d.outbox.delete(seq)
      entry.logged.serverSeq = serverSeq
    },
    async compact(docId, snapshot, covers) {
      const d = docs.get(docId)
      if (!d) return 0
      // The highest covered seq per author, so one pass over the log decides every envelope.
      const coveredSeq = new Map<string, number>()
      for (const c of covers) coveredSeq.set(c.author, Math.max(c.seq, coveredSeq.get(c.author) ?? -Infinity))
      const isCovered = (e: LocalEnvelope) =>
        e.seq <= (coveredSeq.get(e.author) ?? -Infinity) &&
        !(e.author === snapshot.author && e.seq === snapshot.seq) &&
        d.outbox.get(e.seq)?.logged !== e
      const before = d.envelopes.length
      d.envelopes = d.envelopes.filter((e) => !isCovered(e))
      return before - d.envelopes.length
    },
    async getCursor(docId) {
      return doc(docId).cursor
    },
    async close() {},
  }
}
