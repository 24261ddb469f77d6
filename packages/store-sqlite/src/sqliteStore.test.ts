import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runLocalStoreTests } from '@mindsync/client/testing'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { createSqliteStore } from './index.js'
import { APPLICATION_ID, SCHEMA_VERSION } from './schema.js'

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
