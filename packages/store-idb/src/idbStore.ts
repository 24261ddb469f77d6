import type { LocalEnvelope, LocalStore, OutboxEntry } from '@mindsync/client'
import { type IDBPTransaction, type StoreNames, openDB } from 'idb'
import { type EnvelopeRecord, SCHEMA_VERSION, type StoreDatabase, type StoreSchema, hasSchema, upgrade } from './schema.js'

/** Options of the IndexedDB LocalStore. */
export interface IdbStoreOptions {
  /**
   * Durability of write transactions. `'strict'` (the default) resolves a
   * write only once the browser has flushed it to disk, so it survives a
   * power cut. `'relaxed'` resolves once the browser holds it: still safe
   * when the tab or the browser crashes, but the last writes before an OS
   * crash or a power cut may be lost.
   */
  durability?: 'strict' | 'relaxed'
}

function checkBytes(value: unknown, what: string): void {
  if (!(value instanceof Uint8Array)) throw new TypeError(`store-idb: ${what} must be a Uint8Array`)
}

function checkCount(value: unknown, what: string): void {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new RangeError(`store-idb: ${what} must be a non-negative integer, got ${String(value)}`)
  }
}

function checkDoc(value: unknown): void {
  if (typeof value !== 'string') throw new TypeError(`store-idb: a doc id must be a string, got ${typeof value}`)
}

function checkAuthorSeq(value: { author: string; seq: number }, what: string): void {
  if (typeof value?.author !== 'string') throw new TypeError(`store-idb: ${what}.author must be a string`)
  checkCount(value.seq, `${what}.seq`)
}

/** The keys as runs of consecutive integers, [first, last] each, in order. */
function keyRuns(keys: Iterable<number>): [number, number][] {
  const runs: [number, number][] = []
  for (const key of [...keys].sort((a, b) => a - b)) {
    const run = runs.at(-1)
    if (run && key === run[1] + 1) run[1] = key
    else runs.push([key, key])
  }
  return runs
}

// A copy holding exactly the bytes of the view: structured clone would keep a subarray's whole buffer.
const copy = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes)

type Mode = 'readonly' | 'readwrite'

/**
 * A LocalStore in one IndexedDB database, named `name`: every method is one
 * IndexedDB transaction, and a write resolves only once it committed.
 * Opening creates the database if missing and refuses one of another app
 * or of a newer schema.
 * @example
 * const store = await createIdbStore('mindsync-device')
 * const client = await createSyncClient({ store, transport: createWebSocketTransport(), url })
 */
export async function createIdbStore(name: string, options: IdbStoreOptions = {}): Promise<LocalStore> {
  let closedBecause: string | undefined
  const db = await open(name, (reason) => {
    closedBecause ??= reason
  })
  const durability = options.durability ?? 'strict'

  const ensureOpen = (): void => {
    if (closedBecause !== undefined) throw new Error(`store-idb: the store "${name}" is closed${closedBecause}`)
  }
  /**
   * Starts a transaction whose failure is always observed: a caller that
   * throws before awaiting `done` leaves no unhandled rejection behind.
   */
  const begin = <S extends StoreNames<StoreSchema>[], M extends Mode>(stores: S, mode: M): IDBPTransaction<StoreSchema, S, M> => {
    ensureOpen()
    const tx = db.transaction(stores, mode, mode === 'readwrite' ? { durability } : undefined)
    tx.done.catch(() => {})
    return tx
  }

  return {
    async getMeta(key) {
      const tx = begin(['meta'], 'readonly')
      return tx.objectStore('meta').get(key)
    },
    async setMeta(key, value) {
      ensureOpen()
      checkBytes(value, 'a meta value')
      const tx = begin(['meta'], 'readwrite')
      await Promise.all([tx.objectStore('meta').put(copy(value), key), tx.done])
    },
    async deleteMeta(key) {
      const tx = begin(['meta'], 'readwrite')
      await Promise.all([tx.objectStore('meta').delete(key), tx.done])
    },
    async listOps() {
      const tx = begin(['ops'], 'readonly')
      return tx.objectStore('ops').getAll()
    },
    async putOps(from, ops) {
      ensureOpen()
      checkCount(from, 'putOps: from')
      ops.forEach((op, i) => checkBytes(op, `putOps: op ${i}`))
      const copies = ops.map(copy)
      const tx = begin(['ops'], 'readwrite')
      const store = tx.objectStore('ops')
      // Ops are stored without gaps, so the count is the next index.
      const count = await store.count()
      if (from > count) {
        await tx.done // nothing was written; let the transaction end cleanly
        throw new RangeError(`store-idb: putOps at index ${from} leaves a gap after ${count} ops`)
      }
      const writes = copies.slice(count - from).map((op, i) => store.add(op, count + i))
      await Promise.all([...writes, tx.done])
    },
    async addLocal(docId, item) {
      ensureOpen()
      checkDoc(docId)
      checkBytes(item.envelope, 'addLocal: envelope')
      // The seq is an index key: a seq IndexedDB cannot index would silently miss the outbox.
      checkCount(item.seq, 'addLocal: seq')
      const record: EnvelopeRecord = { doc: docId, author: item.author, seq: item.seq, serverSeq: null, bytes: copy(item.envelope), outboxSeq: item.seq }
      const tx = begin(['envelopes'], 'readwrite')
      await Promise.all([tx.objectStore('envelopes').add(record), tx.done])
    },
    async addReceived(docId, items, cursor) {
      ensureOpen()
      checkDoc(docId)
      checkCount(cursor, 'addReceived: cursor')
      items.forEach((it, i) => checkBytes(it.envelope, `addReceived: envelope ${i}`))
      const records = items.map(
        (it): EnvelopeRecord => ({ doc: docId, author: it.author, seq: it.seq, serverSeq: it.serverSeq, bytes: copy(it.envelope) }),
      )
      const tx = begin(['envelopes', 'cursors'], 'readwrite')
      const cursors = tx.objectStore('cursors')
      const current = (await cursors.get(docId)) ?? 0
      const envelopes = tx.objectStore('envelopes')
      const writes: Promise<unknown>[] = records.map((r) => envelopes.add(r))
      if (cursor > current) writes.push(cursors.put(cursor, docId))
      await Promise.all([...writes, tx.done])
    },
    async listEnvelopes(docId) {
      checkDoc(docId)
      const tx = begin(['envelopes'], 'readonly')
      const rows = await tx.objectStore('envelopes').index('byDoc').getAll(docId)
      return rows.map((r): LocalEnvelope => ({ author: r.author, seq: r.seq, serverSeq: r.serverSeq, envelope: r.bytes }))
    },
    async listOutbox(docId) {
      checkDoc(docId)
      const tx = begin(['envelopes'], 'readonly')
      const range = IDBKeyRange.bound([docId, -Infinity], [docId, Infinity])
      const rows = await tx.objectStore('envelopes').index('outbox').getAll(range)
      return rows.map((r): OutboxEntry => ({ seq: r.seq, envelope: r.bytes }))
    },
    async rewriteOutbox(docId, items) {
      ensureOpen()
      checkDoc(docId)
      items.forEach((it, i) => checkBytes(it.envelope, `rewriteOutbox: envelope ${i}`))
      const copies = items.map((it) => ({ seq: it.seq, bytes: copy(it.envelope) }))
      const tx = begin(['envelopes'], 'readwrite')
      const outbox = tx.objectStore('envelopes').index('outbox')
      for (const it of copies) {
        // Only records still in the outbox are own, unacknowledged envelopes.
        const cursor = await outbox.openCursor(IDBKeyRange.only([docId, it.seq]))
        if (cursor) await cursor.update({ ...cursor.value, bytes: it.bytes })
      }
      await tx.done
    },
    async acknowledge(docId, seq, serverSeq) {
      checkDoc(docId)
      const tx = begin(['envelopes'], 'readwrite')
      // A seq IndexedDB cannot use as a key was never put in the outbox: nothing to acknowledge.
      if (typeof seq !== 'number' || Number.isNaN(seq)) return tx.done
      // Only records still in the outbox are own envelopes: another author's
      // envelope with the same seq is never touched, and a repeated
      // acknowledgement finds nothing.
      let cursor = await tx.objectStore('envelopes').index('outbox').openCursor(IDBKeyRange.only([docId, seq]))
      while (cursor) {
        const { outboxSeq: _, ...acknowledged } = cursor.value
        await cursor.update({ ...acknowledged, serverSeq })
        cursor = await cursor.continue()
      }
      await tx.done
    },
    async compact(docId, snapshot, covers) {
      ensureOpen()
      checkDoc(docId)
      checkAuthorSeq(snapshot, 'compact: snapshot')
      covers.forEach((c, i) => checkAuthorSeq(c, `compact: covers[${i}]`))
      const tx = begin(['envelopes'], 'readwrite')
      const envelopes = tx.objectStore('envelopes')
      const byAuthor = envelopes.index('byAuthor')
      // Kept though covered: records still in the outbox, and the snapshot's own.
      const kept = new Set([
        ...(await envelopes.index('outbox').getAllKeys(IDBKeyRange.bound([docId, -Infinity], [docId, Infinity]))),
        ...(await byAuthor.getAllKeys(IDBKeyRange.only([docId, snapshot.author, snapshot.seq]))),
      ])
      // Keys only, one range per author: a big log never has its bytes read.
      const doomed = new Set<number>()
      for (const c of covers) {
        for (const key of await byAuthor.getAllKeys(IDBKeyRange.bound([docId, c.author, -Infinity], [docId, c.author, c.seq]))) {
          if (!kept.has(key)) doomed.add(key)
        }
      }
      // Auto-increment keys of a batch are consecutive: one ranged delete per run, not one per record.
      const deletes = keyRuns(doomed).map(([first, last]) => envelopes.delete(IDBKeyRange.bound(first, last)))
      await Promise.all([...deletes, tx.done])
      return doomed.size
    },
    async getCursor(docId) {
      checkDoc(docId)
      const tx = begin(['cursors'], 'readonly')
      return (await tx.objectStore('cursors').get(docId)) ?? 0
    },
    async close() {
      closedBecause ??= ''
      // Transactions already started still commit; IndexedDB closes the connection after them.
      db.close()
    },
  }
}

/** Opens (creating or migrating) the database; `onLost` hears when the connection ends without close(). */
async function open(name: string, onLost: (reason: string) => void): Promise<StoreDatabase> {
  let db: StoreDatabase
  let foreign = false
  const notOurs = () => new Error(`store-idb: the database "${name}" is not a mindsync device store`)
  try {
    db = await openDB<StoreSchema>(name, SCHEMA_VERSION, {
      upgrade: (d, oldVersion, _newVersion, tx) => {
        foreign = !upgrade(d, oldVersion, tx)
      },
      // Another connection wants to upgrade or delete the database: step aside rather than block it.
      blocking: () => {
        onLost(' (another connection upgraded or deleted the database)')
        db.close()
      },
      terminated: () => onLost(' (the browser closed the connection)'),
    })
  } catch (e) {
    if (foreign) throw notOurs()
    if (e instanceof DOMException && e.name === 'VersionError') {
      throw new Error(`store-idb: the database "${name}" was written by a newer version of the store (schema > ${SCHEMA_VERSION})`, { cause: e })
    }
    throw e
  }
  if (!hasSchema(db)) {
    db.close()
    throw notOurs()
  }
  return db
}
