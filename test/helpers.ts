import { spawn, execFile } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll } from 'vitest'
import { Membership, createSyncClient, createWebSocketTransport } from '@mindsync/client'
import type { DeviceIdentity, SyncClient } from '@mindsync/client'
import { decodeEnvelope, decodeOp, deriveKey, openEnvelope } from '@mindsync/protocol'
import type { TestDevice } from '@mindsync/relay/testing'
import { createSqliteStore } from '@mindsync/store-sqlite'

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

/**
 * For a describe block: a temporary folder and a relay daemon on loopback for all its tests,
 * started before the first and stopped (and the folder removed) after the last. `relay` is
 * filled in by then; `home(name)` is a device home inside the folder.
 */
export function useRelay(): { dir: string; home(name: string): string; relay: RelayProcess } {
  const tmp = tempDir()
  const relay = {} as RelayProcess
  beforeAll(async () => {
    Object.assign(relay, await startRelay(join(tmp.dir, 'relay', 'relay.db')))
  })
  afterAll(async () => {
    await relay.stop?.()
    tmp.cleanup()
  })
  return { dir: tmp.dir, home: (name) => join(tmp.dir, name), relay }
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
  const started = Date.now()
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_MAIN, '--home', home, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      const lines = stdout.trim().split('\n')
      // MINDSYNC_TEST_TRACE=1 prints each command with its duration, to find where an end-to-end test spends its time.
      if (process.env.MINDSYNC_TEST_TRACE) process.stderr.write(`[cli ${Date.now() - started} ms, exit ${code}] ${home.split('/').pop()}: ${args.join(' ')}\n`)
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

// ---- devices and keys ------------------------------------------------------

/** The relay's HTTP base (challenge endpoint) for its ws:// URL. */
export function httpUrlOf(wsUrl: string): string {
  return wsUrl.replace(/^ws/, 'http')
}

/** Every membership op a relay database file holds for one vault (hex id), in index order; read-only, safe while the relay runs. */
export function relayOps(dbPath: string, vaultHex: string): { idx: number; bytes: Buffer }[] {
  const db = openSqlite(dbPath, { readonly: true, fileMustExist: true })
  try {
    return db.prepare('SELECT idx, bytes FROM ops WHERE vault_id = ? ORDER BY idx').all(Buffer.from(vaultHex, 'hex')) as { idx: number; bytes: Buffer }[]
  } finally {
    db.close()
  }
}

/** Runs `fn` on a writable connection to a (live) relay database file: what a malicious relay operator can do to its own storage. */
export function withRelayDb<T>(dbPath: string, fn: (db: SqliteDatabase) => T): T {
  const db = openSqlite(dbPath, { fileMustExist: true })
  try {
    db.pragma('busy_timeout = 5000')
    return fn(db)
  } finally {
    db.close()
  }
}

/** A running stand-in for a malicious relay: a loopback proxy in front of the real relay. */
export interface RelayProxy {
  url: string
  stop(): Promise<void>
}

/**
 * A relay that serves the membership log of its database as it is, without
 * verifying it: a loopback proxy in front of the real relay that forwards
 * everything both ways (challenges, refusals, frames, close codes) but
 * answers each `ops` message with the rows of the relay's `ops` table, so a
 * row planted there reaches the devices the way a malicious relay would send it.
 */
export async function startOpsTableProxy(relay: RelayProcess): Promise<RelayProxy> {
  const http = await import('node:http')
  const { decodeFrame, encodeFrame } = await import('@mindsync/protocol')
  const ws = requireUntyped('ws') as {
    WebSocket: new (url: string) => UntypedSocket
    WebSocketServer: new (options: { noServer: true }) => {
      handleUpgrade(req: unknown, socket: unknown, head: unknown, cb: (client: UntypedSocket) => void): void
      close(): void
    }
  }
  const upstreamHttp = httpUrlOf(relay.url)
  const wss = new ws.WebSocketServer({ noServer: true })
  const sockets = new Set<UntypedSocket>()
  const server = http.createServer((req, res) => {
    fetch(`${upstreamHttp}${req.url ?? '/'}`)
      .then(async (r) => {
        const body = await r.text()
        res.writeHead(r.status, { 'Content-Type': r.headers.get('content-type') ?? 'application/json' })
        res.end(body)
      })
      .catch((e: unknown) => {
        res.writeHead(502)
        res.end(String(e))
      })
  })
  const sendable = (code: number): number => (code === 1000 || (code >= 1001 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999) ? code : 1000)
  server.on('upgrade', (req: { url?: string }, socket: { write(s: string): void; destroy(): void; end(s: string): void }, head: unknown) => {
    const upstream = new ws.WebSocket(`${relay.url}${req.url ?? '/'}`)
    let vaultHex: string | undefined
    let client: UntypedSocket | undefined
    const early: Buffer[] = []
    const rewrite = (data: Buffer): Uint8Array => {
      const messages = decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) as { type: string; [k: string]: unknown }[]
      for (const m of messages) {
        if (m.type === 'welcome') vaultHex = Buffer.from(m.vaultId as Uint8Array).toString('hex')
        if (m.type === 'ops' && vaultHex) {
          const from = m.from as number
          m.ops = relayOps(relay.db, vaultHex)
            .filter((r) => r.idx >= from)
            .map((r) => new Uint8Array(r.bytes))
        }
      }
      return encodeFrame(messages as never)
    }
    upstream.on('unexpected-response', (_req: unknown, res: { statusCode?: number; headers: Record<string, string>; on(e: string, l: (c?: Buffer) => void): void }) => {
      let body = ''
      res.on('data', (c) => {
        body += c!.toString()
      })
      res.on('end', () => {
        socket.end(
          `HTTP/1.1 ${res.statusCode ?? 500} Refused\r\nConnection: close\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\nX-Mindsync-Error: ${res.headers['x-mindsync-error'] ?? ''}\r\n\r\n${body}`,
        )
      })
    })
    upstream.on('error', () => socket.destroy())
    upstream.on('message', (data: Buffer) => {
      if (client) client.send(rewrite(data))
      else early.push(data)
    })
    upstream.on('close', (code: number, reason: Buffer) => client?.close(sendable(code), reason.toString()))
    upstream.on('open', () => {
      wss.handleUpgrade(req, socket, head, (c) => {
        client = c
        sockets.add(c)
        for (const data of early.splice(0)) c.send(rewrite(data))
        c.on('message', (data: Buffer) => upstream.send(data))
        c.on('close', (code: number, reason: Buffer) => {
          sockets.delete(c)
          upstream.close(sendable(code), reason.toString())
        })
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${port}`,
    async stop() {
      for (const s of sockets) s.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

interface UntypedSocket {
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
  terminate(): void
  on(event: string, listener: (...args: never[]) => void): void
}

/**
 * Opens the device of a CLI home as a library client (its identity, verified
 * membership and epoch keys), offline unless `url` is given. Close it before
 * running the CLI on the same home again.
 */
export async function openDevice(home: string, url?: string): Promise<SyncClient> {
  return await createSyncClient({
    store: createSqliteStore(join(home, 'device.db')),
    ...(url ? { url, transport: createWebSocketTransport({ WebSocket: NodeWebSocket }) } : {}),
  })
}

/** A device identity in the shape the relay's testing helpers sign with (raw connections). */
export function testDeviceOf(identity: DeviceIdentity): TestDevice {
  return {
    signing: { secretKey: identity.signSecret, publicKey: identity.signPub },
    signer: identity.signer,
    dh: { secretKey: identity.dhSecret, publicKey: identity.dhPub },
    signPub: identity.signPub,
    deviceId: identity.deviceId,
  }
}

/**
 * Pairs several new CLI homes into the vault of `member`: their offers and
 * first syncs run side by side, the accepts one after the other (one member
 * home is one process at a time). Returns the new device ids in order.
 */
export async function pairHomes(member: string, relayUrl: string, devices: { home: string; name: string; scope?: 'read' | 'write' | 'admin' }[]): Promise<string[]> {
  const offers = await Promise.all(devices.map((d) => ok(d.home, ['pair', 'offer', '--relay', relayUrl, '--name', d.name])))
  for (const [i, d] of devices.entries()) await ok(member, ['pair', 'accept', offers[i]!.last, '--scope', d.scope ?? 'write'])
  await Promise.all(devices.map((d) => ok(d.home, ['sync'])))
  return offers.map((o) => deviceIdIn(o.stdout))
}

/** Polls until `check` holds, or fails after `timeoutMs` naming `what`. */
export async function waitUntil(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** The notes of every journal entry, sorted. */
export function notesOf(journal: JournalJson): string[] {
  return [...journal.sessions, ...journal.checkins].map((e) => e.note).sort()
}

/** The body of a stored envelope under one epoch key, or undefined when it does not open. */
export function tryOpen(bytes: Uint8Array, epochKey: Uint8Array): Uint8Array | undefined {
  try {
    return openEnvelope(decodeEnvelope(bytes), deriveKey(epochKey, 'envelope'))
  } catch {
    return undefined
  }
}

/**
 * Every epoch key a (removed) device ever held: those in its own store, and
 * any it gets by applying the relay's whole membership log (read from the
 * relay's database) to a membership built from its identity.
 */
export async function everyKeyOf(home: string, relayDb: string, vaultHex: string): Promise<{ keys: Uint8Array[]; epochs: number[] }> {
  const device = await openDevice(home)
  try {
    const replay = new Membership(device.identity)
    for (const row of relayOps(relayDb, vaultHex)) replay.apply(decodeOp(new Uint8Array(row.bytes)))
    const keys = [...device.membership.keys.values(), ...replay.keys.values()]
    const epochs = [...new Set([...device.membership.keys.keys(), ...replay.keys.keys()])].sort((a, b) => a - b)
    return { keys, epochs }
  } finally {
    await device.close()
  }
}

/** Each stored envelope of the relay, opened with the first of `keys` that opens it (undefined: none does). */
export function openEach(rows: RelayRow[], keys: Uint8Array[]): { row: RelayRow; body: Uint8Array | undefined }[] {
  return rows.map((row) => ({ row, body: keys.map((k) => tryOpen(row.bytes, k)).find((b) => b !== undefined) }))
}
