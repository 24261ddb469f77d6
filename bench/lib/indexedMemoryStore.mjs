// A LocalStore in memory, like @mindsync/client's createMemoryStore, plus an index from
// (author, seq) to the stored envelope: createMemoryStore's acknowledge() scans every envelope
// of the doc, so 100,000 acknowledgements cost O(n²) (minutes). Used only by the device that
// writes the 100,000-entry journal before the initial-sync measurement, never by a measured device.
export function createIndexedMemoryStore() {
  const meta = new Map()
  const ops = []
  const docs = new Map()
  const doc = (id) => {
    let d = docs.get(id)
    if (!d) docs.set(id, (d = { envelopes: [], byKey: new Map(), outbox: new Map(), cursor: 0 }))
    return d
  }
  const add = (d, item) => {
    d.envelopes.push(item)
    d.byKey.set(`${item.author}:${item.seq}`, item)
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
      for (const op of list.slice(ops.length - from)) ops.push(op.slice())
    },
    async addLocal(docId, item) {
      const d = doc(docId)
      add(d, { author: item.author, seq: item.seq, serverSeq: null, envelope: item.envelope.slice() })
      d.outbox.set(item.seq, { author: item.author, seq: item.seq, envelope: item.envelope.slice() })
    },
    async addReceived(docId, items, cursor) {
      const d = doc(docId)
      for (const it of items) add(d, { ...it, envelope: it.envelope.slice() })
      d.cursor = Math.max(d.cursor, cursor)
    },
    async listEnvelopes(docId) {
      return doc(docId).envelopes.map((e) => ({ ...e, envelope: e.envelope.slice() }))
    },
    async listOutbox(docId) {
      return [...doc(docId).outbox.values()].sort((a, b) => a.seq - b.seq).map((e) => ({ seq: e.seq, envelope: e.envelope.slice() }))
    },
    async acknowledge(docId, seq, serverSeq) {
      const d = doc(docId)
      const entry = d.outbox.get(seq)
      if (!entry) return
      d.outbox.delete(seq)
      const own = d.byKey.get(`${entry.author}:${seq}`)
      if (own) own.serverSeq = serverSeq
    },
    async getCursor(docId) {
      return doc(docId).cursor
    },
    async close() {},
  }
}
