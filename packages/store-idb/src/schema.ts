import type { DBSchema, IDBPDatabase } from 'idb'

/** The IndexedDB version this release writes; a later schema bumps it and migrates in `upgrade`. */
export const SCHEMA_VERSION = 1

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
    }
  }
  /** The last relay sequence number received, by doc. */
  cursors: { key: string; value: number }
}

export type StoreDatabase = IDBPDatabase<StoreSchema>

const STORES = ['meta', 'ops', 'envelopes', 'cursors'] as const
const INDEXES = ['byDoc', 'outbox'] as const

/** Creates or migrates the object stores; runs inside IndexedDB's versionchange transaction. */
export function upgrade(db: StoreDatabase, oldVersion: number): void {
  if (oldVersion < 1) {
    db.createObjectStore('meta')
    db.createObjectStore('ops')
    const envelopes = db.createObjectStore('envelopes', { autoIncrement: true })
    envelopes.createIndex('byDoc', 'doc')
    envelopes.createIndex('outbox', ['doc', 'outboxSeq'])
    db.createObjectStore('cursors')
  }
}

/** True when the database has every store and index this release uses (and so is not another app's). */
export function hasSchema(db: StoreDatabase): boolean {
  if (!STORES.every((s) => db.objectStoreNames.contains(s))) return false
  const names = db.transaction('envelopes').store.indexNames
  return INDEXES.every((i) => names.contains(i))
}
