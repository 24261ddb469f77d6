// The page that browser.test.ts bundles and runs in Chromium: the shared
// LocalStore suite on createIdbStore, then the IndexedDB-specific cases.
// 'vitest' is bundled as ./vitestShim.ts; runRegistered() runs what
// registered and the page exposes the results as `mindsyncSuite`.
import type { LocalStore } from '@mindsync/client'
import { runLocalStoreTests } from '@mindsync/client/testing'
import { deleteDB, openDB } from 'idb'
import { describe, expect, it } from 'vitest'
import { type IdbStoreOptions, SCHEMA_VERSION, createIdbStore } from '../src/index.js'
import { type TestResult, runRegistered } from './vitestShim.js'

let counter = 0
const freshName = () => `mindsync-test-${++counter}`

/** A fresh database per test; reopen opens the same name again, as a reloaded page would. */
const idbSetup = (options?: IdbStoreOptions) => async () => {
  const name = freshName()
  return {
    store: await createIdbStore(name, options),
    reopen: () => createIdbStore(name, options),
    teardown: () => deleteDB(name),
    closes: true,
  }
}

runLocalStoreTests('idb', idbSetup())
runLocalStoreTests('idb, durability relaxed', idbSetup({ durability: 'relaxed' }))

const DOC = 'd0c1'
const bytes = (...values: number[]) => new Uint8Array(values)

/** Runs `body` with a fresh database name, and deletes the database afterwards. */
async function withName(body: (name: string) => Promise<void>): Promise<void> {
  const name = freshName()
  try {
    await body(name)
  } finally {
    await deleteDB(name)
  }
}

async function closing<T>(store: LocalStore, body: (s: LocalStore) => Promise<T>): Promise<T> {
  try {
    return await body(store)
  } finally {
    await store.close()
  }
}

describe('createIdbStore', () => {
  it('[idb] creates the object stores and indexes of the schema', () =>
    withName(async (name) => {
      await closing(await createIdbStore(name), async (s) => {
        await s.addLocal(DOC, { author: 'aa', seq: 1, envelope: bytes(1) })
        await s.addLocal(DOC, { author: 'aa', seq: 2, envelope: bytes(2) })
        await s.acknowledge(DOC, 1, 7)
      })
      const raw = await openDB(name)
      try {
        expect(raw.version).toBe(SCHEMA_VERSION)
        expect([...raw.objectStoreNames].sort()).toEqual(['cursors', 'envelopes', 'meta', 'ops'])
        const envelopes = raw.transaction('envelopes').objectStore('envelopes')
        expect(envelopes.autoIncrement).toBe(true)
        expect(envelopes.index('byDoc').keyPath).toBe('doc')
        expect(envelopes.index('outbox').keyPath).toEqual(['doc', 'outboxSeq'])
        expect(envelopes.index('byAuthor').keyPath).toEqual(['doc', 'author', 'seq'])
        // The acknowledged record left the outbox index; the other is still in it.
        const records = await envelopes.getAll()
        expect(records.map((r) => [r.seq, r.serverSeq, 'outboxSeq' in r])).toEqual([
          [1, 7, false],
          [2, null, true],
        ])
      } finally {
        raw.close()
      }
    }))

  it('[idb] keeps only the bytes of a view, not the rest of its buffer', () =>
    withName(async (name) => {
      // Structured clone would store (and later hand out) a view's whole
      // buffer: bytes the caller never meant to store, such as the rest of
      // a pooled buffer.
      const pool = new Uint8Array(4096).fill(0xee)
      const view = pool.subarray(100, 116).fill(1)
      await closing(await createIdbStore(name), async (s) => {
        await s.setMeta('k', view)
        await s.putOps(0, [view])
        await s.addLocal(DOC, { author: 'aa', seq: 1, envelope: view })
        await s.addReceived(DOC, [{ author: 'bb', seq: 1, serverSeq: 1, envelope: view }], 1)
        const read = [await s.getMeta('k'), ...(await s.listOps()), ...(await s.listEnvelopes(DOC)).map((e) => e.envelope), ...(await s.listOutbox(DOC)).map((e) => e.envelope)]
        expect(read.map((v) => [v?.byteOffset, v?.length, v?.buffer.byteLength])).toEqual(Array(5).fill([0, 16, 16]))
      })
    }))

  it('[idb] opens a database of schema version 1, keeps its data and adds the compaction index', () =>
    withName(async (name) => {
      // Version 1 as it shipped (before compact()): its upgrade and its records, verbatim.
      const v1 = await openDB(name, 1, {
        upgrade(d) {
          d.createObjectStore('meta')
          d.createObjectStore('ops')
          const envelopes = d.createObjectStore('envelopes', { autoIncrement: true })
          envelopes.createIndex('byDoc', 'doc')
          envelopes.createIndex('outbox', ['doc', 'outboxSeq'])
          d.createObjectStore('cursors')
        },
      })
      await v1.put('meta', bytes(7), 'identity')
      await v1.put('ops', bytes(8), 0)
      await v1.add('envelopes', { doc: DOC, author: 'bb', seq: 1, serverSeq: 1, bytes: bytes(1) })
      await v1.add('envelopes', { doc: DOC, author: 'aa', seq: 1, serverSeq: 2, bytes: bytes(2) })
      await v1.add('envelopes', { doc: DOC, author: 'aa', seq: 2, serverSeq: null, bytes: bytes(3), outboxSeq: 2 })
      await v1.add('envelopes', { doc: DOC, author: 'bb', seq: 2, serverSeq: 3, bytes: bytes(4) })
      await v1.put('cursors', 3, DOC)
      v1.close()
      await closing(await createIdbStore(name), async (s) => {
        expect(await s.getMeta('identity')).toEqual(bytes(7))
        expect(await s.listOps()).toEqual([bytes(8)])
        expect((await s.listEnvelopes(DOC)).map((e) => [e.author, e.seq, e.serverSeq, e.envelope[0]])).toEqual([
          ['bb', 1, 1, 1],
          ['aa', 1, 2, 2],
          ['aa', 2, null, 3],
          ['bb', 2, 3, 4],
        ])
        expect(await s.listOutbox(DOC)).toEqual([{ seq: 2, envelope: bytes(3) }])
        expect(await s.getCursor(DOC)).toBe(3)
        // The records stored before the upgrade are in the new index: they compact.
        expect(await s.compact(DOC, { author: 'bb', seq: 2 }, [{ author: 'bb', seq: 2 }, { author: 'aa', seq: 2 }])).toBe(2)
        expect((await s.listEnvelopes(DOC)).map((e) => `${e.author} ${e.seq}`)).toEqual(['aa 2', 'bb 2'])
      })
      const raw = await openDB(name)
      try {
        expect(raw.version).toBe(SCHEMA_VERSION)
      } finally {
        raw.close()
      }
    }))

  it('[idb] refuses the database of another application and leaves it untouched', () =>
    withName(async (name) => {
      const other = await openDB(name, 1, { upgrade: (d) => d.createObjectStore('notes') })
      await other.put('notes', 'keep me', 'n1')
      other.close()
      await expect(createIdbStore(name)).rejects.toThrow(/is not a mindsync device store/)
      const again = await openDB(name)
      try {
        expect(again.version, 'the refused upgrade left its version').toBe(1)
        expect([...again.objectStoreNames]).toEqual(['notes'])
        expect(await again.get('notes', 'n1')).toBe('keep me')
      } finally {
        again.close()
      }
    }))

  it('[idb] refuses a database written by a newer schema', () =>
    withName(async (name) => {
      const newer = await openDB(name, SCHEMA_VERSION + 1, { upgrade: (d) => d.createObjectStore('meta') })
      newer.close()
      await expect(createIdbStore(name)).rejects.toThrow(/written by a newer version/)
      const again = await openDB(name)
      expect(again.version).toBe(SCHEMA_VERSION + 1)
      again.close()
    }))

  it('[idb] a write started just before close() still commits', () =>
    withName(async (name) => {
      const store = await createIdbStore(name)
      const write = store.addLocal(DOC, { author: 'aa', seq: 1, envelope: bytes(9, 9) })
      const meta = store.setMeta('k', bytes(4))
      await store.close()
      await write
      await meta
      await expect(store.getMeta('k')).rejects.toThrow(/store "mindsync-test-\d+" is closed/)
      await closing(await createIdbStore(name), async (s) => {
        expect(await s.listOutbox(DOC)).toEqual([{ seq: 1, envelope: bytes(9, 9) }])
        expect(await s.getMeta('k')).toEqual(bytes(4))
      })
    }))

  it('[idb] deleting the database elsewhere closes the store instead of blocking the delete', () =>
    withName(async (name) => {
      const store = await createIdbStore(name)
      await store.setMeta('k', bytes(1))
      let blocked = false
      await deleteDB(name, { blocked: () => (blocked = true) })
      expect(blocked, 'the delete waited for the open store').toBe(false)
      await expect(store.getMeta('k')).rejects.toThrow(/is closed \(another connection upgraded or deleted the database\)/)
      await expect(store.addLocal(DOC, { author: 'aa', seq: 1, envelope: bytes(1) })).rejects.toThrow(/closed/)
      await store.close()
      await closing(await createIdbStore(name), async (s) => {
        expect(await s.getMeta('k')).toBeUndefined()
      })
    }))

  it('[idb] two stores open on one database (two tabs) see each other', () =>
    withName(async (name) => {
      const a = await createIdbStore(name)
      await closing(a, async () => {
        await closing(await createIdbStore(name), async (b) => {
          await a.addLocal(DOC, { author: 'aa', seq: 1, envelope: bytes(1) })
          expect((await b.listOutbox(DOC)).map((e) => e.seq)).toEqual([1])
          await b.acknowledge(DOC, 1, 3)
          await b.addReceived(DOC, [{ author: 'bb', seq: 1, serverSeq: 4, envelope: bytes(2) }], 4)
          expect(await a.listOutbox(DOC)).toEqual([])
          expect((await a.listEnvelopes(DOC)).map((e) => [e.author, e.serverSeq])).toEqual([
            ['aa', 3],
            ['bb', 4],
          ])
          expect(await a.getCursor(DOC)).toBe(4)
        })
      })
    }))

  it('[idb] rejects keys IndexedDB cannot use, with precise errors and nothing written', () =>
    withName(async (name) => {
      await closing(await createIdbStore(name), async (s) => {
        const asAny = (v: unknown) => v as never
        await expect(s.addLocal(DOC, { author: 'aa', seq: Number.NaN, envelope: bytes(1) })).rejects.toThrow(/addLocal: seq must be a non-negative integer/)
        await expect(s.addLocal(asAny(7), { author: 'aa', seq: 1, envelope: bytes(1) })).rejects.toThrow(/doc id must be a string/)
        await expect(s.addReceived(DOC, [], -1)).rejects.toThrow(/cursor must be a non-negative integer/)
        await expect(s.putOps(-1, [])).rejects.toBeInstanceOf(RangeError)
        await expect(s.setMeta('k', asAny('text'))).rejects.toThrow(/meta value must be a Uint8Array/)
        await expect(s.compact(DOC, { author: 'aa', seq: Number.NaN }, [])).rejects.toThrow(/compact: snapshot.seq must be a non-negative integer/)
        await expect(s.compact(DOC, { author: 'aa', seq: 1 }, [{ author: asAny(7), seq: 1 }])).rejects.toThrow(/compact: covers\[0\].author must be a string/)
        await s.acknowledge(DOC, Number.NaN, 1) // nothing can match: not an error
        expect(await s.listEnvelopes(DOC)).toEqual([])
        expect(await s.listOutbox(DOC)).toEqual([])
        expect(await s.getCursor(DOC)).toBe(0)
        expect(await s.listOps()).toEqual([])
      })
    }))
})

declare global {
  var mindsyncSuite: Promise<TestResult[]>
}

globalThis.mindsyncSuite = runRegistered((r) => console.log(`${r.status} ${r.name} (${r.ms} ms)${r.status === 'passed' ? '' : `\n${r.detail}`}`))
