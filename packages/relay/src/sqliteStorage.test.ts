import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { SQLITE_SCHEMA_VERSION, createSqliteRelayStorage } from './sqliteStorage.js'
import { runRelayStorageTests } from './testing/index.js'

const dir = mkdtempSync(join(tmpdir(), 'mindsync-relay-storage-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

runRelayStorageTests('sqlite file', async () => ({ storage: createSqliteRelayStorage(join(dir, `conformance-${n++}.db`)) }))
runRelayStorageTests('sqlite synchronous=normal', async () => ({ storage: createSqliteRelayStorage(join(dir, `normal-${n++}.db`), { synchronous: 'normal' }) }))

describe('SQLite relay storage', () => {
  it('keeps its relay id and data across reopening, in WAL mode with synchronous=FULL', async () => {
    const path = join(dir, 'reopen.db')
    const a = createSqliteRelayStorage(path)
    const relayId = await a.relayId()
    const v = new Uint8Array(16).fill(1)
    await a.appendOp(v, 0, new Uint8Array([1, 2, 3]))
    await a.appendEnvelopes([{ vaultId: v, docId: v, deviceId: v, seq: 1, kind: 1, bytes: new Uint8Array([9]) }])
    await a.close()

    const db = new Database(path, { readonly: true })
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.prepare('SELECT MAX(version) FROM schema_version').pluck().get()).toBe(SQLITE_SCHEMA_VERSION)
    db.close()

    const b = createSqliteRelayStorage(path)
    expect([...(await b.relayId())]).toEqual([...relayId])
    expect((await b.loadOps(v))?.map((o) => [...o])).toEqual([[1, 2, 3]])
    expect(await b.headSeq(v, v)).toBe(1)
    expect(await b.appendEnvelopes([{ vaultId: v, docId: v, deviceId: v, seq: 2, kind: 1, bytes: new Uint8Array([8]) }])).toEqual([2])
    await b.close()
  })

  it('refuses a database written by a newer relay', () => {
    const path = join(dir, 'newer.db')
    createSqliteRelayStorage(path).close()
    const db = new Database(path)
    db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(SQLITE_SCHEMA_VERSION + 1, Date.now())
    db.close()
    expect(() => createSqliteRelayStorage(path)).toThrow(/newer/)
  })
})
