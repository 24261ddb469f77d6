import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb'

/** The IndexedDB version this release writes; a later schema bumps it and migrates in `upgrade`. */
export const SCHEMA_VERSION = 2

/** One envelope of one doc. The record's auto-increment key is the order stored. */
export interface EnvelopeRecord {
  doc: string
  author: string
  seq: number
  serverSeq: number | null
  bytes: Uint8Array
  /**
   * The own seq while the envelope waits for the relay's acknowledgement;
   * absent otherwise. IndexedDB leaves a record out of an index whose key it
   * lacks, so the `outbox` index holds exactly the outbox.
   */
  outboxSeq?: number
}

export interface StoreSchema extends DBSchema {
  /** Small values (identity, settings) by key. */
  meta: { key: string; value: Uint8Array }
  /** The membership log: op bytes by index. */
  ops: { key: number; value: Uint8Array }
  envelopes: {
    key: number
    value: EnvelopeRecord
    indexes: {
      /** A doc's envelopes; equal keys come in primary-key (insertion) order. */
      byDoc: string
      /** A doc's outbox entries by seq. */
      outbox: [string, number]
      /** A doc's envelopes by author and seq: what compact() deletes, a range per covered author. */
      byAuthor: [string, string, number]
    }
  }
  /** The last relay sequence number received, by doc. */
  cursors: { key: string; value: number }
}

export type StoreDatabase = IDBPDatabase<StoreSchema>

const STORES = ['meta', 'ops', 'envelopes', 'cursors'] as const
const V1_INDEXES = ['byDoc', 'outbox'] as const
const INDEXES = [...V1_INDEXES, 'byAuthor'] as const

type UpgradeTransaction = IDBPTransaction<StoreSchema, StoreNames<StoreSchema>[], 'versionchange'>

/**
 * Creates or migrates the object stores; runs inside IndexedDB's
 * versionchange transaction. A database of an older version that is not a
 * mindsync store is left untouched: the upgrade aborts (so its version
 * stays) and this returns false.
 */
export function upgrade(db: StoreDatabase, oldVersion: number, tx: UpgradeTransaction): boolean {
  if (oldVersion >= 1 && !hasStores(db, () => tx.objectStore('envelopes').indexNames, V1_INDEXES)) {
    tx.done.catch(() => {}) // the abort below rejects it; openDB reports the failure
    tx.abort()
    return false
  }
  if (oldVersion < 1) {
    db.createObjectStore('meta')
    db.createObjectStore('ops')
    const envelopes = db.createObjectStore('envelopes', { autoIncrement: true })
    envelopes.createIndex('byDoc', 'doc')
    envelopes.createIndex('outbox', ['doc', 'outboxSeq'])
    db.createObjectStore('cursors')
  }
  if (oldVersion < 2) {
    // Indexes the records already stored, inside this transaction.
    tx.objectStore('envelopes').createIndex('byAuthor', ['doc', 'author', 'seq'])
  }
  return true
}

/** True when the database has every object store, and `envelopes` every index named in `indexes`. */
function hasStores(db: StoreDatabase, envelopeIndexes: () => DOMStringList, indexes: readonly string[]): boolean {
  if (!STORES.every((s) => db.objectStoreNames.contains(s))) return false
  const names = envelopeIndexes()
  return indexes.every((i) => names.contains(i))
}

/** True when the database has every store and index this release uses (and so is not another app's). */
export function hasSchema(db: StoreDatabase): boolean {
  return hasStores(db, () => db.transaction('envelopes').store.indexNames, INDEXES)
}
