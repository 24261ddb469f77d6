import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runLocalStoreTests } from '@mindsync/client/testing'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { createSqliteStore } from './index.js'
import { APPLICATION_ID, SCHEMA_VERSION } from './schema.js'
import { COMPACT_AUTHOR_SQL } from './sqliteStore.js'

const tempDir = () => mkdtempSync(join(tmpdir(), 'mindsync-store-sqlite-'))

runLocalStoreTests('sqlite', async () => {
  const dir = tempDir()
  const path = join(dir, 'missing-folder', 'device.db')
  return {
    store: createSqliteStore(path),
    reopen: async () => createSqliteStore(path),
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
    closes: true,
  }
})

runLocalStoreTests('sqlite, synchronous=normal', async () => {
  const dir = tempDir()
  const path = join(dir, 'device.db')
  return {
    store: createSqliteStore(path, { synchronous: 'normal' }),
    reopen: async () => createSqliteStore(path, { synchronous: 'normal' }),
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
    closes: true,
  }
})

describe('createSqliteStore', () => {
  let dir = ''
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it.skipIf(process.platform === 'win32')('creates missing folders and a database readable by its owner only', async () => {
    dir = tempDir()
    const path = join(dir, 'a', 'b', 'device.db')
    const store = createSqliteStore(path)
    await store.addLocal('d', { author: 'aa', seq: 1, envelope: new Uint8Array(10) })
    for (const file of [path, `${path}-wal`]) expect(statSync(file).mode & 0o777, file).toBe(0o600)
    await store.close()
  })

  it.skipIf(process.platform === 'win32')('tightens the mode of an existing database file', async () => {
    dir = tempDir()
    const path = join(dir, 'device.db')
    writeFileSync(path, new Uint8Array(0), { mode: 0o644 })
    await createSqliteStore(path).close()
    expect(statSync(path).mode & 0o777).toBe(0o600)
  })

  it('uses WAL and records the schema version and its application id', async () => {
    dir = tempDir()
    const path = join(dir, 'device.db')
    const store = createSqliteStore(path)
    await store.setMeta('k', new Uint8Array([1]))
    const db = new Database(path, { readonly: true })
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID)
    expect(db.prepare('SELECT MAX(version) FROM schema_version').pluck().get()).toBe(SCHEMA_VERSION)
    db.close()
    await store.close()
    await createSqliteStore(path).close() // a second open migrates nothing
    const again = new Database(path, { readonly: true })
    expect(again.prepare('SELECT COUNT(*) FROM schema_version').pluck().get()).toBe(SCHEMA_VERSION)
    again.close()
  })

  it('opens a database written by schema version 1, keeps its data and adds the compaction index', async () => {
    // A real file written by store-sqlite at schema version 1 (before compact()); see fixtures/README.md.
    dir = tempDir()
    const path = join(dir, 'device.db')
    copyFileSync(fileURLToPath(new URL('../fixtures/device-schema-v1.sqlite', import.meta.url)), path)
    const store = createSqliteStore(path)
    const text = (s: string) => new TextEncoder().encode(s)
    const envelope = (author: string, seq: number, serverSeq: number | null, bytes: string) => ({ author, seq, serverSeq, envelope: text(bytes) })
    expect(await store.getMeta('identity')).toEqual(text('identity v1'))
    expect(await store.listOps()).toEqual([text('op 0'), text('op 1')])
    expect(await store.listEnvelopes('d0c1')).toEqual([
      envelope('bb', 1, 1, 'bb 1'),
      envelope('aa', 1, 2, 'aa 1'),
      envelope('aa', 2, null, 'aa 2'),
      envelope('bb', 2, 3, 'bb 2'),
      envelope('cc', 1, 4, 'cc 1'),
    ])
    expect(await store.listOutbox('d0c1')).toEqual([{ seq: 2, envelope: text('aa 2') }])
    expect(await store.getCursor('d0c1')).toBe(4)
    expect(await store.listEnvelopes('d0c2')).toEqual([envelope('bb', 1, 1, 'other doc')])
    // The migrated file compacts, and keeps growing in order.
    expect(await store.compact('d0c1', { author: 'bb', seq: 2 }, [{ author: 'bb', seq: 2 }, { author: 'aa', seq: 2 }])).toBe(2)
    await store.addReceived('d0c1', [envelope('bb', 3, 5, 'bb 3')], 5)
    expect((await store.listEnvelopes('d0c1')).map((e) => `${e.author} ${e.seq}`)).toEqual(['aa 2', 'bb 2', 'cc 1', 'bb 3'])
    await store.close()

    const db = new Database(path, { readonly: true })
    expect(db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all()).toEqual([1, 2])
    const indexed = db.pragma('index_info(envelopes_by_author)') as { name: string }[]
    expect(indexed.map((c) => c.name)).toEqual(['doc', 'author', 'seq'])
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    db.close()
  })

  it('compacts through the (doc, author, seq) index, not a scan of the doc', async () => {
    dir = tempDir()
    const path = join(dir, 'device.db')
    await createSqliteStore(path).close()
    const db = new Database(path, { readonly: true })
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${COMPACT_AUTHOR_SQL}`).all({ doc: 'd', author: 'aa', seq: 5, snapshotAuthor: 'bb', snapshotSeq: 9 }) as { detail: string }[]
    db.close()
    expect(plan.map((p) => p.detail)).toEqual(['SEARCH envelopes USING INDEX envelopes_by_author (doc=? AND author=? AND seq<?)'])
  })

  it('refuses a database from a newer version of the store', async () => {
    dir = tempDir()
    const path = join(dir, 'device.db')
    await createSqliteStore(path).close()
    const db = new Database(path)
    db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, 0)').run(SCHEMA_VERSION + 1)
    db.close()
    expect(() => createSqliteStore(path)).toThrow(/newer than/)
  })

  it('refuses a SQLite file of another application', () => {
    dir = tempDir()
    const path = join(dir, 'other.db')
    const db = new Database(path)
    db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)')
    db.close()
    expect(() => createSqliteStore(path)).toThrow(/not a mindsync device store/)
  })

  it('rejects values that are not bytes, and bad counts, with precise errors', async () => {
    const store = createSqliteStore(':memory:')
    const bad = 'text' as unknown as Uint8Array
    await expect(store.setMeta('k', bad)).rejects.toThrow(/meta value must be a Uint8Array/)
    await expect(store.putOps(0, [new Uint8Array(1), bad])).rejects.toThrow(/op 1 must be a Uint8Array/)
    await expect(store.putOps(-1, [])).rejects.toThrow(RangeError)
    await expect(store.addReceived('d', [], 1.5)).rejects.toThrow(/cursor must be a non-negative integer/)
    await expect(store.compact('d', { author: 'aa', seq: Number.NaN }, [])).rejects.toThrow(/compact: snapshot.seq must be a non-negative integer/)
    await expect(store.compact('d', { author: 'aa', seq: 1 }, [{ author: 7 as unknown as string, seq: 1 }])).rejects.toThrow(/compact: covers\[0\].author must be a string/)
    expect(await store.listOps()).toEqual([])
    await store.close()
  })

  it('works in memory, for tests', async () => {
    const store = createSqliteStore(':memory:')
    await store.addLocal('d', { author: 'aa', seq: 1, envelope: new Uint8Array([1, 2]) })
    expect(await store.listOutbox('d')).toEqual([{ seq: 1, envelope: new Uint8Array([1, 2]) }])
    await store.close()
  })
})
