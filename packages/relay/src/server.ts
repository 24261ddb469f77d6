import { STATUS_CODES, createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { fromBase64Url, fromHex, toBase64Url, toHex } from '@mindsync/crypto'
import { CHALLENGE_PATH, CloseCode, SYNC_PATH } from '@mindsync/protocol'
import { WebSocketServer } from 'ws'
import type { RawData, WebSocket } from 'ws'
import type { AuthRequest } from './auth.js'
import { createRelayCore } from './core.js'
import type { RelayCore } from './core.js'
import type { RelayLimits } from './limits.js'
import { silentLog } from './log.js'
import type { RelayLog } from './log.js'
import { createMemoryRelayStorage } from './memoryStorage.js'
import type { Peer } from './outbox.js'
import { createSqliteRelayStorage } from './sqliteStorage.js'
import type { RelayStorage } from './storage.js'

/** Options of a relay server. */
export interface RelayOptions {
  /** Where envelopes and membership logs live. Give this or `dbPath`; with neither, an in-memory storage (lost on exit). */
  storage?: RelayStorage
  /** Path of a SQLite file to create or open (its folder must exist). */
  dbPath?: string
  /** Interface to listen on. Default '127.0.0.1' (put TLS in front before exposing it). */
  host?: string
  /** Port; 0 picks a free one. Default 8787. */
  port?: number
  /** Largest WebSocket frame accepted; larger ones close the connection with 1009. Default 32 MiB. */
  maxFrameBytes?: number
  limits?: Partial<RelayLimits>
  /** Whether devices may create new vaults here. Default 'open'. */
  registration?: 'open' | 'closed'
  /** How long a batch of pushes waits for more before it is committed (acks wait, fan-out does not). Default 5 ms. */
  commitDelayMs?: number
  log?: RelayLog
  /** Clock in milliseconds, for tests. */
  now?: () => number
}

/** A running (or ready to run) relay server. */
export interface Relay {
  /** Starts listening; resolves with the bound address and the base URL of the sync endpoint. */
  listen(): Promise<{ port: number; host: string; url: string }>
  /** Stops accepting, finishes the group commit, closes every socket with 1001 and closes the storage. */
  close(): Promise<void>
  readonly core: RelayCore
}

/** An upgrade refused before any WebSocket: the HTTP status and the JSON body. */
export type UpgradeRefusal = { status: number; code: string; message: string }

// Readable from any origin: a web app served from another origin fetches the challenge before it
// connects. Nothing here is private and no request carries credentials (a device proves itself by
// signing the challenge in the upgrade, which CORS does not govern).
const PUBLIC = { 'Access-Control-Allow-Origin': '*' }

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...PUBLIC, ...headers })
  res.end(text)
}

/** Answers a refused upgrade with an HTTP status and a JSON reason, then drops the socket: only accepted devices get a WebSocket. */
function refuseUpgrade(socket: Duplex, { status, code, message }: UpgradeRefusal): void {
  if (socket.destroyed) return
  const body = JSON.stringify({ code, message })
  socket.once('finish', () => socket.destroy())
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nX-Mindsync-Error: ${code}\r\n\r\n${body}`,
  )
}

/** Reads `device`, `vault`, `challenge` and `sig` from the sync URL; a bad parameter is a 400 naming it. */
export function parseSyncParams(params: URLSearchParams): AuthRequest | UpgradeRefusal {
  const bad = (field: string, expected: string): UpgradeRefusal => ({ status: 400, code: 'E_BAD_FRAME', message: `sync request: ${field} must be ${expected}` })
  const decode = (field: string, expected: string, parse: (s: string) => Uint8Array): Uint8Array | UpgradeRefusal => {
    const value = params.get(field)
    if (value === null) return bad(field, expected)
    try {
      return parse(value)
    } catch {
      return bad(field, expected)
    }
  }
  const signPub = decode('device', 'the base64url signing public key', fromBase64Url)
  if (!(signPub instanceof Uint8Array)) return signPub
  const challenge = decode('challenge', 'the base64url challenge from GET /v1/challenge', fromBase64Url)
  if (!(challenge instanceof Uint8Array)) return challenge
  const signature = decode('sig', 'the base64url signature', fromBase64Url)
  if (!(signature instanceof Uint8Array)) return signature
  let vaultId: Uint8Array | undefined
  if (params.has('vault') && params.get('vault') !== '') {
    const v = decode('vault', 'the hex vault id', fromHex)
    if (!(v instanceof Uint8Array)) return v
    vaultId = v
  }
  return { signPub, vaultId, challenge, signature }
}

/** The request URL, or undefined when it does not parse (remote input must never throw out of a handler). */
function urlOf(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://relay')
  } catch {
    return undefined
  }
}

const bytesOf = (data: RawData): Uint8Array => {
  if (Array.isArray(data)) return Buffer.concat(data)
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data
}

/**
 * Creates the relay server: `GET /v1/challenge`, `GET /healthz`, and the
 * WebSocket endpoint `/v1/sync` where devices authenticate during the upgrade.
 * @example
 * const relay = createRelay({ dbPath: './data/relay.db', port: 8787 })
 * const { url } = await relay.listen()
 * process.on('SIGTERM', () => relay.close())
 */
export function createRelay(options: RelayOptions = {}): Relay {
  if (options.storage && options.dbPath) throw new TypeError('createRelay: give storage or dbPath, not both')
  const log = options.log ?? silentLog
  const storage = options.storage ?? (options.dbPath !== undefined ? createSqliteRelayStorage(options.dbPath, { log }) : createMemoryRelayStorage())
  if (!options.storage && options.dbPath === undefined) log({ level: 'warn', event: 'relay.storage.memory', message: 'no dbPath: envelopes are kept in memory only' })
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 8787
  const core = createRelayCore({ storage, limits: options.limits, log, registration: options.registration, now: options.now, commitDelayMs: options.commitDelayMs })
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes ?? 32 * 1024 * 1024 })
  const sockets = new Set<WebSocket>()
  let closing: Promise<void> | undefined

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = urlOf(req)
    const path = url?.pathname
    if (url === undefined || path === undefined) return json(res, 400, { code: 'E_BAD_FRAME', message: 'request URL does not parse' })
    if (req.method === 'GET' && path === CHALLENGE_PATH) {
      core
        .issueChallenge()
        .then(({ relayId, challenge }) => json(res, 200, { relayId: toHex(relayId), challenge: toBase64Url(challenge) }))
        .catch((e: unknown) => {
          log({ level: 'error', event: 'relay.challenge.failed', error: e })
          json(res, 500, { code: 'E_INTERNAL', message: 'could not issue a challenge' })
        })
      return
    }
    if (req.method === 'GET' && path === '/healthz') return json(res, 200, { ok: true })
    if (req.method === 'GET' && path === SYNC_PATH) return explainSync(url.searchParams, res)
    json(res, 404, { code: 'E_NOT_FOUND', message: `no such endpoint: ${req.method ?? ''} ${path}` })
  })

  /**
   * A plain GET of the sync URL runs the upgrade's checks and answers as JSON,
   * opening nothing: a browser cannot read why an upgrade was refused (it sees
   * only a failed WebSocket), so a device asks again this way, with a fresh
   * challenge, to learn that it was removed rather than that the relay is down.
   */
  function explainSync(params: URLSearchParams, res: ServerResponse): void {
    if (closing) return json(res, 503, { code: 'E_UNREACHABLE', message: 'relay shutting down' })
    const request = parseSyncParams(params)
    if (!('signPub' in request)) return json(res, request.status, { code: request.code, message: request.message })
    core
      .authenticate(request)
      .then((result) => (result.ok ? json(res, 200, { ok: true, message: 'accepted: open a WebSocket at this URL to sync' }) : json(res, result.status, { code: result.code, message: result.message })))
      .catch((e: unknown) => {
        log({ level: 'error', event: 'relay.auth.failed', error: e })
        json(res, 500, { code: 'E_INTERNAL', message: 'could not check the request' })
      })
  }

  function attach(ws: WebSocket, handlers: { receive(frame: Uint8Array): void; closed(): void }): void {
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) return ws.close(CloseCode.badFrame, 'text frames are not accepted; send binary frames')
      handlers.receive(bytesOf(data))
    })
    ws.on('close', () => {
      sockets.delete(ws)
      handlers.closed()
    })
    ws.on('error', (e) => log({ level: 'info', event: 'relay.socket.error', error: e }))
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (e) => log({ level: 'debug', event: 'relay.upgrade.socket.error', error: e }))
    const url = urlOf(req)
    if (!url) return refuseUpgrade(socket, { status: 400, code: 'E_BAD_FRAME', message: 'request URL does not parse' })
    if (url.pathname !== SYNC_PATH) return refuseUpgrade(socket, { status: 404, code: 'E_NOT_FOUND', message: `no WebSocket endpoint at ${url.pathname}` })
    if (closing) return refuseUpgrade(socket, { status: 503, code: 'E_UNREACHABLE', message: 'relay shutting down' })
    const request = parseSyncParams(url.searchParams)
    if (!('signPub' in request)) return refuseUpgrade(socket, request)
    core
      .authenticate(request)
      .then((result) => {
        if (!result.ok) return refuseUpgrade(socket, result)
        if (closing) return refuseUpgrade(socket, { status: 503, code: 'E_UNREACHABLE', message: 'relay shutting down' })
        if (socket.destroyed) return
        wss.handleUpgrade(req, socket, head, (ws) => {
          sockets.add(ws)
          const peer: Peer = {
            send: (frame) => {
              if (ws.readyState === ws.OPEN) ws.send(frame)
            },
            close: (code, reason) => ws.close(code, reason),
            bufferedAmount: () => ws.bufferedAmount,
          }
          attach(ws, core.openSession(result.auth, peer))
        })
      })
      .catch((e: unknown) => {
        log({ level: 'error', event: 'relay.upgrade.failed', error: e })
        refuseUpgrade(socket, { status: 500, code: 'E_INTERNAL', message: 'internal error on the relay' })
      })
  })

  async function shutDown(): Promise<void> {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    await core.shutdown()
    // Give devices a moment to answer the close handshake, then cut the rest.
    const deadline = Date.now() + 2_000
    while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    for (const ws of sockets) ws.terminate()
    wss.close()
    server.closeAllConnections()
    await stopped
    await storage.close()
    log({ level: 'info', event: 'relay.stopped' })
  }

  return {
    core,
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          const addr = server.address()
          const bound = typeof addr === 'object' && addr ? addr.port : port
          const urlHost = host.includes(':') ? `[${host}]` : host
          log({ level: 'info', event: 'relay.listening', host, port: bound })
          resolve({ port: bound, host, url: `ws://${urlHost}:${bound}` })
        })
      })
    },
    close() {
      closing ??= shutDown()
      return closing
    },
  }
}
