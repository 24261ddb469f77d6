import type { LocalEnvelope, LocalStore, OutboxEntry } from './localStore.js'

interface DocState {
  envelopes: LocalEnvelope[]
  /** Own unacknowledged envelopes by seq, with the log entry they share (so acknowledging is O(1)). */
  outbox: Map<number, OutboxEntry & { logged: LocalEnvelope }>
  cursor: number
}

const CHUNK_BYTES = 64 * 1024

/**
 * Copies of stored envelopes, packed into shared chunks: a device holding
 * thousands of small envelopes keeps a few large buffers instead of one
 * ArrayBuffer each, which is most of what a garbage collection would walk.
 */
function createArena(): { copy(bytes: Uint8Array): Uint8Array } {
  let chunk = new Uint8Array(0)
  let used = 0
  return {
    copy(bytes) {
      if (bytes.length > CHUNK_BYTES / 4) return bytes.slice()
      if (used + bytes.length > chunk.length) {
        chunk = new Uint8Array(CHUNK_BYTES)
        used = 0
      }
      const out = chunk.subarray(used, used + bytes.length)
      out.set(bytes)
      used += bytes.length
      return out
    },
  }
}

/** Keeps one copy of each author id string however many envelopes name it. */
function createInterner(): (s: string) => string {
  const seen = new Map<string, string>()
  return (s) => {
    const known = seen.get(s)
    if (known !== undefined) return known
    seen.set(s, s)
    return s
  }
}

/** A LocalStore in memory: for tests and for apps that persist elsewhere. Values are copied in and out. */
export function createMemoryStore(): LocalStore {
  const meta = new Map<string, Uint8Array>()
  const ops: Uint8Array[] = []
  const docs = new Map<string, DocState>()
  let arena = createArena()
  const intern = createInterner()
  const doc = (id: string): DocState => {
    let d = docs.get(id)
    if (!d) docs.set(id, (d = { envelopes: [], outbox: new Map(), cursor: 0 }))
    return d
  }
  /** Copies what every doc keeps into fresh chunks, so chunks held only by dropped envelopes are freed. */
  const repack = (): void => {
    arena = createArena()
    for (const d of docs.values()) {
      for (const e of d.envelopes) {
        const entry = d.outbox.get(e.seq)
        e.envelope = arena.copy(e.envelope)
        if (entry?.logged === e) entry.envelope = e.envelope
      }
    }
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
      // One stored copy for log and outbox: it is only ever copied out, never changed in place.
      const envelope = arena.copy(item.envelope)
      const logged: LocalEnvelope = { author: intern(item.author), seq: item.seq, serverSeq: null, envelope }
      d.envelopes.push(logged)
      d.outbox.set(item.seq, { seq: item.seq, envelope, logged })
    },
    async addReceived(docId, items, cursor) {
      const copies = items.map((it) => ({ author: intern(it.author), seq: it.seq, serverSeq: it.serverSeq, envelope: arena.copy(it.envelope) }))
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
      const copies = items.map((it) => ({ seq: it.seq, envelope: arena.copy(it.envelope) }))
      for (const it of copies) {
        const entry = d.outbox.get(it.seq)
        if (!entry) continue
        entry.envelope = it.envelope
        entry.logged.envelope = it.envelope
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
      const dropped = before - d.envelopes.length
      if (dropped > 0) repack()
      return dropped
    },
    async getCursor(docId) {
      return doc(docId).cursor
    },
    async close() {},
  }
}
