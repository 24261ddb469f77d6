import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createSqliteStore } from './index.js'

// A real crash: a child process writes through the built package and is
// killed with SIGKILL, so no close(), no exit handler and no flush runs.

const root = fileURLToPath(new URL('../../../', import.meta.url))
const writer = fileURLToPath(new URL('../fixtures/crashWriter.mjs', import.meta.url))

// Must match the copies in fixtures/crashWriter.mjs.
const DOC = 'c0ffee'
const envelopeFor = (seq: number) => new TextEncoder().encode(`envelope ${seq};`.repeat(1 + (seq % 40)))

interface Run {
  lines: string[]
  signal: NodeJS.Signals | null
  code: number | null
  stderr: string
}

/** Runs the writer and kills it with SIGKILL once `killWhen` holds for the lines it printed. */
function runWriter(path: string, args: string[], killWhen: (lines: string[]) => boolean): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, path, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const lines: string[] = []
    let pending = ''
    let stderr = ''
    let killed = false
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (pending + chunk).split('\n')
      pending = parts.pop() ?? ''
      lines.push(...parts)
      if (!killed && killWhen(lines)) {
        killed = true
        child.kill('SIGKILL')
      }
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', reject)
    // 'close' comes after stdout ended: every line the child managed to print is in.
    child.on('close', (code, signal) => {
      clearTimeout(guard)
      resolve({ lines, signal, code, stderr })
    })
  })
}

const written = (lines: string[]) => lines.filter((l) => l.startsWith('written ')).map((l) => Number(l.slice(8)))

describe('store-sqlite after a real crash (SIGKILL)', () => {
  let dir = ''
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  beforeAll(() => {
    try {
      execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/store-sqlite'], { cwd: root, stdio: 'pipe' })
    } catch (e) {
      const out = e as { stdout?: Buffer; stderr?: Buffer }
      throw new Error(`building store-sqlite for the child process failed:\n${out.stdout ?? ''}${out.stderr ?? ''}`)
    }
  }, 120_000)

  it('[ST4] keeps every outbox entry written before the kill', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mindsync-crash-'))
    const path = join(dir, 'device.db')
    const n = 300
    const run = await runWriter(path, ['batch', String(n)], (lines) => lines.includes(`written ${n}`))
    expect(run.signal, `the writer was killed, not ended (exit ${run.code}): ${run.stderr}`).toBe('SIGKILL')

    const store = createSqliteStore(path)
    const outbox = await store.listOutbox(DOC)
    expect(outbox.map((e) => e.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1))
    for (const e of outbox) expect(Buffer.from(e.envelope).equals(envelopeFor(e.seq)), `envelope ${e.seq}`).toBe(true)
    expect((await store.listEnvelopes(DOC)).every((e) => e.serverSeq === null && e.author === 'ab')).toBe(true)
    await store.close()
  })

  it('[ST4] keeps every envelope reported written when killed in the middle of writing, three times over', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mindsync-crash-'))
    const path = join(dir, 'device.db')
    let last = 0 // highest seq in the outbox after the previous run
    for (const target of [150, 211, 97]) {
      const run = await runWriter(path, ['loop'], (lines) => written(lines).length >= target)
      expect(run.signal, `the writer was killed, not ended (exit ${run.code}): ${run.stderr}`).toBe('SIGKILL')
      expect(run.lines[0], 'the writer continued after the last stored envelope').toBe(`start ${last + 1}`)
      const reported = written(run.lines)
      expect(reported.length).toBeGreaterThanOrEqual(target)
      const highest = reported.at(-1) as number

      const db = new Database(path)
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
      db.close()
      const store = createSqliteStore(path)
      const outbox = await store.listOutbox(DOC)
      const seqs = outbox.map((e) => e.seq)
      // Everything reported is there, in one unbroken run from 1. A few more
      // may be: committed, but killed before the line reached the pipe.
      expect(seqs.length).toBeGreaterThanOrEqual(highest)
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1))
      for (const e of outbox) expect(Buffer.from(e.envelope).equals(envelopeFor(e.seq)), `envelope ${e.seq}`).toBe(true)
      expect((await store.listEnvelopes(DOC)).length).toBe(seqs.length)
      await store.close()
      last = seqs.length
    }
  })
})
