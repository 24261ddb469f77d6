import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toHex } from '@mindsync/crypto'
import { envelopeHash } from '@mindsync/protocol'
import type { Envelope } from '@mindsync/protocol'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { SQLITE_SCHEMA_VERSION, createSqliteRelayStorage } from './sqliteStorage.js'
import type { SqliteRelayStorageOptions } from './sqliteStorage.js'
import { createTestDevice, createTestVault, runRelayStorageTests, testDocId } from './testing/index.js'
import type { RelayStorageSetup } from './testing/index.js'

const dir = mkdtempSync(join(tmpdir(), 'mindsync-relay-storage-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

/** A storage on a new file, and how to open that file again. */
const onFile = (prefix: string, options?: SqliteRelayStorageOptions) => async (): Promise<RelayStorageSetup> => {
  const path = join(dir, `${prefix}-${n++}.db`)
  const storage = createSqliteRelayStorage(path, options)
  return {
    storage,
    async reopen() {
      await storage.close()
      return createSqliteRelayStorage(path, options)
    },
  }
}

runRelayStorageTests('sqlite file', onFile('conformance'))
runRelayStorageTests('sqlite writer thread', onFile('thread', { writer: 'thread' }))
runRelayStorageTests('sqlite synchronous=normal', onFile('normal', { synchronous: 'normal' }))
runRelayStorageTests('sqlite writes inline', onFile('inline', { writer: 'inline' }))

/** Appends `count` envelopes of `size` bytes in one batch and reports the longest the event loop was held meanwhile. */
async function longestStallDuring(writer: 'thread' | 'inline', count: number, size: number): Promise<{ stallMs: number; writeMs: number }> {
  const storage = createSqliteRelayStorage(join(dir, `stall-${writer}-${n++}.db`), { writer })
  const v = new Uint8Array(16).fill(7)
  const batch = Array.from({ length: count }, (_, i) => ({ vaultId: v, docId: v, deviceId: v, seq: i + 1, kind: 1, bytes: new Uint8Array(size).fill(i & 255), hash: new Uint8Array(32) }))
  let last = performance.now()
  let stallMs = 0
  const timer = setInterval(() => {
    const now = performance.now()
    stallMs = Math.max(stallMs, now - last)
    last = now
  }, 1)
  await new Promise((r) => setTimeout(r, 20))
  const t = performance.now()
  last = t
  stallMs = 0
  const seqs = await storage.appendEnvelopes(batch)
  const writeMs = performance.now() - t
  await new Promise((r) => setTimeout(r, 5))
  clearInterval(timer)
  expect(seqs).toHaveLength(count)
  await storage.close()
  return { stallMs, writeMs }
}

describe('SQLite writer thread', () => {
  it('[W1] a commit runs beside the event loop: timers keep firing while a large batch is written', async () => {
    const inline = await longestStallDuring('inline', 20_000, 2048)
    const threaded = await longestStallDuring('thread', 20_000, 2048)
    // Inline, the thread is held for the whole write; in the writer thread, only for handing the batch over.
    expect(inline.stallMs).toBeGreaterThan(inline.writeMs * 0.8)
    expect(threaded.stallMs).toBeLessThan(threaded.writeMs / 2)
  })

  it('[W2] writes keep their order, and close() waits for those already asked for', async () => {
    const path = join(dir, `order-${n++}.db`)
    const storage = createSqliteRelayStorage(path, { writer: 'thread' })
    const v = new Uint8Array(16).fill(3)
    const pending = Array.from({ length: 50 }, (_, i) => storage.appendEnvelopes([{ vaultId: v, docId: v, deviceId: v, seq: i + 1, kind: 1, bytes: new Uint8Array([i]), hash: new Uint8Array(32) }]))
    const closed = storage.close()
    expect(await Promise.all(pending)).toEqual(Array.from({ length: 50 }, (_, i) => [i + 1]))
    await closed
    const db = new Database(path, { readonly: true })
    expect(db.prepare('SELECT COUNT(*) AS n FROM envelopes').get()).toEqual({ n: 50 })
    db.close()
  })
})

describe('SQLite relay storage', () => {
  it('keeps its relay id and data across reopening, in WAL mode with synchronous=FULL', async () => {
    const path = join(dir, 'reopen.db')
    const a = createSqliteRelayStorage(path)
    const relayId = await a.relayId()
    const v = new Uint8Array(16).fill(1)
    await a.appendOp(v, 0, new Uint8Array([1, 2, 3]))
    await a.appendEnvelopes([{ vaultId: v, docId: v, deviceId: v, seq: 1, kind: 1, bytes: new Uint8Array([9]), hash: new Uint8Array(32) }])
    await a.close()

    const db = new Database(path, { readonly: true })
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.prepare('SELECT MAX(version) FROM schema_version').pluck().get()).toBe(SQLITE_SCHEMA_VERSION)
    db.close()

    const b = createSqliteRelayStorage(path)
    expect([...(await b.relayId())]).toEqual([...relayId])
    expect((await b.loadOps(v))?.map((o) => [...o])).toEqual([[1, 2, 3]])
    expect(await b.headSeq(v, v)).toBe(1)
    expect(await b.appendEnvelopes([{ vaultId: v, docId: v, deviceId: v, seq: 2, kind: 1, bytes: new Uint8Array([8]), hash: new Uint8Array(32) }])).toEqual([2])
    await b.close()
  })

  it('upgrades a version 1 database: each device head gets the hash of its stored envelope', async () => {
    const path = join(dir, 'v1.db')
    const owner = createTestDevice()
    const vault = createTestVault(owner)
    const doc = testDocId()
    const envs = [vault.envelope(owner, doc, 'one'), vault.envelope(owner, doc, 'two')]
    const a = createSqliteRelayStorage(path)
    const record = (e: (typeof envs)[number]) => ({ vaultId: vault.vaultId, docId: doc, deviceId: owner.deviceId, seq: e.header.seq, kind: e.header.kind, bytes: e.bytes, hash: new Uint8Array(32) })
    await a.appendEnvelopes(envs.map(record))
    await a.close()
    // Back to what version 1 held: no heads, no base.
    const db = new Database(path)
    db.exec('DROP TABLE chain_heads; DROP TABLE base_covers; DROP TABLE base_snapshots; DELETE FROM schema_version WHERE version > 1')
    db.close()

    const b = createSqliteRelayStorage(path)
    const head = await b.deviceHead(vault.vaultId, doc, owner.deviceId)
    expect(head?.seq).toBe(2)
    expect(toHex(head?.hash ?? new Uint8Array(0))).toBe(toHex(envelopeHash(envs[1] as Envelope)))
    expect(await b.baseSnapshot(vault.vaultId, doc)).toBeUndefined()
    await b.close()
  })

  it('refuses a database written by a newer relay', async () => {
    const path = join(dir, 'newer.db')
    await createSqliteRelayStorage(path).close()
    const db = new Database(path)
    db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(SQLITE_SCHEMA_VERSION + 1, Date.now())
    db.close()
    expect(() => createSqliteRelayStorage(path)).toThrow(/newer/)
  })
})

/** Appends one envelope at a time in a child process, printing each seq once its promise resolved (acknowledged), until killed. */
const writerChild = `
const [path, writer, entry] = process.argv.slice(1)
const { createSqliteRelayStorage } = await import(entry)
const storage = createSqliteRelayStorage(path, { writer })
const v = new Uint8Array(16).fill(5)
for (let seq = 1; ; seq++) {
  await storage.appendEnvelopes([{ vaultId: v, docId: v, deviceId: v, seq, kind: 1, bytes: new Uint8Array(64).fill(seq & 255), hash: new Uint8Array(32) }])
  process.stdout.write(seq + '\\n')
}
`

describe('SQLite relay storage killed mid-write', () => {
  // Durability (DESIGN "no silent loss"): whatever a write's promise acknowledged is in the file after a SIGKILL, whichever thread wrote it.
  it.each(['auto', 'thread', 'inline'] as const)('[W3] with writer %s, every write acknowledged before a SIGKILL is in the file', async (writer) => {
    const path = join(dir, `killed-${writer}.db`)
    const entry = new URL('../dist/index.js', import.meta.url).href
    const child = spawn(process.execPath, ['--input-type=module', '-e', writerChild, path, writer, entry], { stdio: ['ignore', 'pipe', 'inherit'] })
    let acknowledged = 0
    let buffered = ''
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString()
        const lines = buffered.split('\n')
        buffered = lines.pop() ?? ''
        for (const line of lines) acknowledged = Number(line)
        if (acknowledged >= 300 && child.exitCode === null) {
          child.kill('SIGKILL')
          resolve()
        }
      })
    })
    await exited
    expect(acknowledged).toBeGreaterThanOrEqual(300)
    const reopened = createSqliteRelayStorage(path)
    const v = new Uint8Array(16).fill(5)
    expect(await reopened.headSeq(v, v)).toBeGreaterThanOrEqual(acknowledged)
    expect(await reopened.findEnvelope(v, v, v, acknowledged)).toMatchObject({ serverSeq: acknowledged })
    await reopened.close()
  })
})
