import { spawn, execFile } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const RELAY_MAIN = join(ROOT, 'apps/relay/dist/main.js')
export const CLI_MAIN = join(ROOT, 'apps/cli/dist/main.js')

/** A temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'mindsync-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export interface RelayProcess {
  url: string
  port: number
  db: string
  child: ChildProcess
  stderr(): string
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>
}

/** Starts the real relay daemon on loopback and waits for its "listening" line. */
export async function startRelay(db: string, port = 0, extra: string[] = []): Promise<RelayProcess> {
  const child = spawn(process.execPath, [RELAY_MAIN, '--host', '127.0.0.1', '--port', String(port), '--db', db, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let errText = ''
  child.stderr!.on('data', (c: Buffer) => {
    errText += c.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    let outText = ''
    const timer = setTimeout(() => reject(new Error(`relay did not start: ${errText}`)), 15_000)
    child.stdout!.on('data', (c: Buffer) => {
      outText += c.toString()
      const m = /listening on (ws:\/\/[^\s]+)/.exec(outText)
      if (m) {
        clearTimeout(timer)
        resolve(m[1] as string)
      }
    })
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}: ${errText}`)))
  })
  return {
    url,
    port: Number(new URL(url).port),
    db,
    child,
    stderr: () => errText,
    async stop() {
      child.kill('SIGTERM')
      return await exited
    },
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
  }
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
  /** The last non-empty line of stdout. */
  last: string
}

/** Runs the real `mindsync` CLI for one home folder. */
export function cli(home: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_MAIN, '--home', home, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      const lines = stdout.trim().split('\n')
      resolve({ code, stdout, stderr, last: lines[lines.length - 1] ?? '' })
    })
  })
}

/** Runs the CLI and fails with its output when it does not exit 0. */
export async function ok(home: string, args: string[]): Promise<CliResult> {
  const r = await cli(home, args)
  if (r.code !== 0) throw new Error(`mindsync ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  return r
}

/** A TCP port that was free a moment ago (listen on port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** The device id a CLI command printed ("device <hex> …"). */
export function deviceIdIn(output: string): string {
  const m = /device\s+([0-9a-f]{32})/.exec(output)
  if (!m) throw new Error(`no device id in: ${output}`)
  return m[1] as string
}

/** Pairs a new CLI home into the vault of `member`: pair offer, pair accept, first sync. Returns the new device id. */
export async function pairHome(member: string, home: string, relayUrl: string, name: string, scope: 'read' | 'write' | 'admin' = 'write'): Promise<string> {
  const offer = await ok(home, ['pair', 'offer', '--relay', relayUrl, '--name', name])
  await ok(member, ['pair', 'accept', offer.last, '--scope', scope])
  await ok(home, ['sync'])
  return deviceIdIn(offer.stdout)
}

export interface JournalEntry {
  id: string
  note: string
  [field: string]: unknown
}
export interface JournalJson {
  sessions: JournalEntry[]
  checkins: JournalEntry[]
  totals: Record<string, unknown>
}

/** `mindsync show --json`, parsed, with the exact text. */
export async function showJson(home: string): Promise<{ text: string; journal: JournalJson }> {
  const r = await ok(home, ['show', '--json'])
  return { text: r.stdout, journal: JSON.parse(r.stdout) as JournalJson }
}

// The test package carries no type declarations for better-sqlite3 and ws: load them untyped, with the little used here typed by hand.
const requireUntyped = createRequire(import.meta.url)

/** The part of a better-sqlite3 database the tests use. */
export interface SqliteDatabase {
  prepare(sql: string): { all(...params: unknown[]): unknown[]; get(...params: unknown[]): unknown; run(...params: unknown[]): { changes: number } }
  pragma(statement: string): unknown
  close(): void
}

/** Opens a SQLite file with better-sqlite3 (the same library the relay and the CLI use). */
export function openSqlite(path: string, options: { readonly?: boolean; fileMustExist?: boolean } = {}): SqliteDatabase {
  const Database = requireUntyped('better-sqlite3') as new (path: string, options: object) => SqliteDatabase
  return new Database(path, options)
}

/** The `ws` WebSocket class, for createWebSocketTransport({ WebSocket }) in Node. */
export const NodeWebSocket: unknown = (requireUntyped('ws') as { WebSocket: unknown }).WebSocket

/** One row of the relay's `envelopes` table. */
export interface RelayRow {
  doc: number
  serverSeq: number
  deviceId: string
  seq: number
  kind: number
  bytes: Buffer
}

/** Every stored envelope of a relay database file, in (doc, server_seq) order; read-only, safe while the relay runs (WAL). */
export function relayRows(dbPath: string): RelayRow[] {
  const db = openSqlite(dbPath, { readonly: true, fileMustExist: true })
  try {
    const rows = db.prepare('SELECT doc, server_seq AS serverSeq, device_id AS deviceId, seq, kind, bytes FROM envelopes ORDER BY doc, server_seq').all() as (Omit<RelayRow, 'deviceId'> & { deviceId: Buffer })[]
    return rows.map((r) => ({ ...r, deviceId: r.deviceId.toString('hex') }))
  } finally {
    db.close()
  }
}
