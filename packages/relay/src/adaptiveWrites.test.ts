import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { adaptiveWrites } from './adaptiveWrites.js'
import { openDatabase } from './sqliteOpen.js'
import { migrate } from './sqliteSchema.js'
import { startWriterThread } from './sqliteWriter.js'
import type { AsyncWrites } from './sqliteWriter.js'
import { prepareWrites } from './sqliteWrites.js'
import type { SqliteWrites } from './sqliteWrites.js'

const dir = mkdtempSync(join(tmpdir(), 'mindsync-adaptive-writes-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Inline writes that take `cost()` ms of a clock the test owns, and a thread that records what reaches it. */
function timed(cost: () => number) {
  let clock = 0
  const threadCalls: string[] = []
  const reasons: string[] = []
  const inline: SqliteWrites = {
    appendEnvelopes: (batch) => {
      clock += cost()
      return batch.map((_, i) => i + 1)
    },
    appendOp: () => {
      clock += cost()
      return true
    },
    touchDevice: () => {
      clock += cost()
    },
  }
  const thread: AsyncWrites = {
    appendEnvelopes: async (batch) => {
      threadCalls.push('appendEnvelopes')
      return batch.map(() => 0)
    },
    appendOp: async () => {
      threadCalls.push('appendOp')
      return true
    },
    touchDevice: async () => {
      threadCalls.push('touchDevice')
    },
    close: async () => {},
  }
  let started = 0
  const writes = adaptiveWrites(
    inline,
    () => {
      started++
      return thread
    },
    { now: () => clock, onMoved: (r) => reasons.push(r) },
  )
  return {
    writes,
    threadCalls,
    reasons,
    started: () => started,
    idle(ms: number) {
      clock += ms
    },
  }
}

const v = new Uint8Array(16)

describe('adaptive writes', () => {
  it('[AW1] quick writes stay on the event loop: 150 commits of 1 ms a second for ten seconds', async () => {
    const t = timed(() => 1)
    for (let s = 0; s < 10; s++) {
      for (let i = 0; i < 150; i++) await t.writes.touchDevice(v, v, i)
      t.idle(1000 - 150)
    }
    expect(t.writes.mode).toBe('inline')
    expect(t.started()).toBe(0)
  })

  it('[AW2] a slow disk (a median write over 4 ms) moves the writes to the thread, for good; a busy CPU slowing some writes does not', async () => {
    // One write in three takes 25 ms (contention), the others 0.5 ms: the median stays low.
    let k = 0
    const busy = timed(() => (k++ % 3 === 0 ? 25 : 0.5))
    for (let i = 0; i < 300; i++) {
      await busy.writes.touchDevice(v, v, i)
      busy.idle(100)
    }
    expect(busy.writes.mode).toBe('inline')

    // Every write takes 8 ms, as on a spinning disk, at a light load: moved once 32 are known.
    const t = timed(() => 8)
    for (let i = 0; i < 31; i++) {
      await t.writes.touchDevice(v, v, i)
      t.idle(500)
    }
    expect(t.writes.mode).toBe('inline')
    await t.writes.touchDevice(v, v, 31)
    expect(t.writes.mode).toBe('thread')
    expect(t.reasons).toEqual(['the median of the last 32 writes held the event loop for 8.0 ms'])
    await t.writes.appendOp(v, 0, v, undefined)
    await t.writes.appendEnvelopes([])
    t.idle(600_000)
    await t.writes.touchDevice(v, v, 99)
    expect(t.threadCalls).toEqual(['appendOp', 'appendEnvelopes', 'touchDevice'])
    expect(t.started()).toBe(1)
  })

  it('[AW3] writes holding the event loop for over half a second move them', async () => {
    // 3 ms each: quick enough for the median rule, but 167 of them in one second.
    const t = timed(() => 3)
    for (let i = 0; i < 166; i++) await t.writes.touchDevice(v, v, i)
    expect(t.writes.mode).toBe('inline')
    await t.writes.touchDevice(v, v, 166)
    expect(t.writes.mode).toBe('thread')
    expect(t.reasons).toEqual(['writes held the event loop for 501 ms within one second'])
  })

  it('[AW3b] the disk syncs of 1,000 updates/s here (150 commits of 1.7 ms a second, a quarter of it) stay on the event loop', async () => {
    const t = timed(() => 1.7)
    for (let s = 0; s < 10; s++) {
      for (let i = 0; i < 150; i++) await t.writes.touchDevice(v, v, i)
      t.idle(1000 - 150 * 1.7)
    }
    expect(t.writes.mode).toBe('inline')
    expect(t.reasons).toEqual([])
  })

  it('[AW4] a failing inline write rejects its promise and leaves the writer usable; so does a writer thread that cannot start', async () => {
    const failing = adaptiveWrites(
      {
        appendEnvelopes: () => {
          throw new Error('disk full')
        },
        appendOp: () => true,
        touchDevice: () => {},
      },
      () => {
        throw new Error('not started in this test')
      },
    )
    await expect(failing.appendEnvelopes([])).rejects.toThrow('disk full')
    await expect(failing.appendOp(v, 0, v, undefined)).resolves.toBe(true)
    expect(failing.mode).toBe('inline')

    // A thread that cannot start leaves the writes inline, said once, and every write still answered.
    const said: string[] = []
    const noThread = adaptiveWrites(
      { appendEnvelopes: (batch) => batch.map((_, i) => i + 1), appendOp: () => true, touchDevice: () => {} },
      () => {
        throw new Error('no threads left')
      },
      { slowMedianMs: -1, sample: 1, onMoved: (r) => said.push(r) },
    )
    for (let i = 0; i < 3; i++) await expect(noThread.appendOp(v, i, v, undefined)).resolves.toBe(true)
    expect(noThread.mode).toBe('inline')
    expect(said).toHaveLength(1)
    expect(said[0]).toMatch(/writer thread did not start \(no threads left\)/)
  })

  it('[AW5] on a real file, envelopes written before and after the move are all stored, in order, with server seqs from 1', async () => {
    const path = join(dir, 'move.db')
    const db = openDatabase(path, 'full', migrate)
    // Every write counts as slow: the third one moves the writes to a real writer thread.
    const writes = adaptiveWrites(prepareWrites(db), () => startWriterThread(path, 'full'), { slowMedianMs: -1, sample: 3 })
    const record = (seq: number) => ({ vaultId: v, docId: v, deviceId: v, seq, kind: 1, bytes: new Uint8Array([seq]), hash: new Uint8Array(32).fill(seq) })
    const seqs: number[][] = []
    for (let seq = 1; seq <= 3; seq++) seqs.push(await writes.appendEnvelopes([record(seq)]))
    expect(writes.mode).toBe('thread')
    const later = Array.from({ length: 20 }, (_, i) => writes.appendEnvelopes([record(4 + i)]))
    seqs.push(...(await Promise.all(later)))
    await writes.close()
    db.close()
    expect(seqs.flat()).toEqual(Array.from({ length: 23 }, (_, i) => i + 1))
    const check = new Database(path, { readonly: true })
    const rows = check.prepare('SELECT server_seq AS s, seq, bytes FROM envelopes ORDER BY server_seq').all() as { s: number; seq: number; bytes: Buffer }[]
    check.close()
    expect(rows.map((r) => [r.s, r.seq, r.bytes[0]])).toEqual(Array.from({ length: 23 }, (_, i) => [i + 1, i + 1, i + 1]))
  })
})
