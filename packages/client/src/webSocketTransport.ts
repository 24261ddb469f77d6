import { fromBase64Url, fromHex, toBase64Url, toHex } from '@mindsync/crypto'
import { CHALLENGE_PATH, MindsyncError, SYNC_PATH, concatBytes } from '@mindsync/protocol'
import type { ErrorCode } from '@mindsync/protocol'
import type { Connection, ConnectionHandlers, ConnectRequest, Transport } from './transport.js'

/** The part of the WebSocket API the transport uses; both the browser's WebSocket and `ws` fit. */
interface SocketLike {
  binaryType: string
  readonly readyState: number
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
  onopen: ((ev: unknown) => void) | null
  onclose: ((ev: { code: number; reason: string }) => void) | null
  onerror: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  /** `ws` only: the HTTP response when the relay refuses the upgrade. */
  on?(event: 'unexpected-response', listener: (req: unknown, res: RefusalResponse) => void): unknown
}
interface RefusalResponse {
  statusCode?: number
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown
  on(event: 'end', listener: () => void): unknown
}
type SocketConstructor = new (url: string) => SocketLike

export interface WebSocketTransportOptions {
  /** A WebSocket constructor; defaults to globalThis.WebSocket. In Node pass `ws`'s. */
  WebSocket?: unknown
  /** Milliseconds to wait for the relay; default 10 s. */
  timeoutMs?: number
}

const KNOWN_CODES = new Set<string>(['E_UNAUTHORIZED', 'E_FORBIDDEN', 'E_NOT_MEMBER', 'E_REVOKED', 'E_BAD_FRAME', 'E_TOO_LARGE', 'E_UNREACHABLE'])

function httpBase(url: string): string {
  return url.replace(/^ws(s?):\/\//, 'http$1://').replace(/\/+$/, '')
}

function refusal(status: number, body: string): MindsyncError {
  try {
    const parsed = JSON.parse(body) as { code?: string; message?: string }
    const code = (parsed.code && KNOWN_CODES.has(parsed.code) ? parsed.code : status === 401 ? 'E_UNAUTHORIZED' : 'E_FORBIDDEN') as ErrorCode
    return new MindsyncError(code, `relay refused the connection (${status}): ${parsed.message ?? parsed.code ?? 'no reason given'}`)
  } catch {
    return new MindsyncError(status === 401 ? 'E_UNAUTHORIZED' : 'E_FORBIDDEN', `relay refused the connection (${status})`)
  }
}

async function getChallenge(base: string, timeoutMs: number): Promise<{ relayId: Uint8Array; challenge: Uint8Array }> {
  let res: Response | undefined
  const signal = AbortSignal.timeout(timeoutMs)
  // Twice: a kept-alive connection the relay closed while this device was busy fails once, then a fresh one is opened.
  for (let attempt = 0; !res; attempt++) {
    try {
      res = await fetch(`${base}${CHALLENGE_PATH}`, { signal })
    } catch (e) {
      if (attempt === 0 && !signal.aborted) continue
      throw new MindsyncError('E_UNREACHABLE', `cannot reach the relay at ${base}: ${(e as Error).cause ?? (e as Error).message}`)
    }
  }
  if (!res.ok) throw refusal(res.status, await res.text())
  const body = (await res.json()) as { relayId?: string; challenge?: string }
  if (typeof body.relayId !== 'string' || typeof body.challenge !== 'string') {
    throw new MindsyncError('E_BAD_FRAME', `the server at ${base} did not answer like a mindsync relay`)
  }
  return { relayId: fromHex(body.relayId), challenge: fromBase64Url(body.challenge) }
}

/** The sync URL's query: the device's key, the vault, and a fresh challenge signed for it. */
async function signedQuery(base: string, request: ConnectRequest, timeoutMs: number): Promise<URLSearchParams> {
  const { relayId, challenge } = await getChallenge(base, timeoutMs)
  const query = new URLSearchParams({
    device: toBase64Url(request.signPub),
    challenge: toBase64Url(challenge),
    sig: toBase64Url(request.signAuth(relayId, challenge)),
  })
  if (request.vaultId) query.set('vault', toHex(request.vaultId))
  return query
}

/**
 * Why the relay refused a WebSocket, asked with a plain GET of the sync URL
 * and a fresh challenge, which the relay answers with the same checks as
 * JSON; undefined when it would accept (the failure was elsewhere) or cannot
 * say (a relay without that answer, or no answer at all).
 */
async function whyRefused(base: string, request: ConnectRequest, timeoutMs: number): Promise<MindsyncError | undefined> {
  try {
    const res = await fetch(`${base}${SYNC_PATH}?${await signedQuery(base, request, timeoutMs)}`, { signal: AbortSignal.timeout(timeoutMs) })
    return res.ok || res.status === 404 ? undefined : refusal(res.status, await res.text())
  } catch {
    return undefined
  }
}

/** A Transport over WebSocket: fetches a challenge, signs it, and authenticates in the upgrade request. */
export function createWebSocketTransport(options: WebSocketTransportOptions = {}): Transport {
  const Ctor = (options.WebSocket ?? (globalThis as { WebSocket?: unknown }).WebSocket) as SocketConstructor | undefined
  if (!Ctor) throw new MindsyncError('E_INVALID_INPUT', 'no WebSocket implementation: pass one as options.WebSocket')
  const timeoutMs = options.timeoutMs ?? 10_000
  return {
    async connect(request: ConnectRequest, handlers: ConnectionHandlers): Promise<Connection> {
      const base = httpBase(request.url)
      const wsUrl = `${base.replace(/^http/, 'ws')}${SYNC_PATH}?${await signedQuery(base, request, timeoutMs)}`
      return await new Promise<Connection>((resolve, reject) => {
        const socket = new Ctor(wsUrl)
        // ws (Node) hands over a view of the bytes it read; 'arraybuffer' would copy every frame into a new one.
        socket.binaryType = socket.on ? 'nodebuffer' : 'arraybuffer'
        let opened = false
        let refused: Promise<MindsyncError> | undefined
        const timer = setTimeout(() => {
          socket.close()
          reject(new MindsyncError('E_UNREACHABLE', `the relay at ${base} did not answer within ${timeoutMs} ms`))
        }, timeoutMs)
        socket.on?.('unexpected-response', (_req, res) => {
          refused = new Promise((done) => {
            const chunks: Uint8Array[] = []
            res.on('data', (c) => chunks.push(c))
            res.on('end', () => done(refusal(res.statusCode ?? 0, new TextDecoder().decode(concatBytes(...chunks)))))
          })
          // ws reports this response only through this event; end the attempt here.
          void refused.then((err) => {
            clearTimeout(timer)
            reject(err)
          })
        })
        socket.onopen = () => {
          opened = true
          clearTimeout(timer)
          resolve({
            send: (frame) => socket.send(frame),
            close: (code, reason) => socket.close(code ?? 1000, reason),
          })
        }
        socket.onmessage = (ev) => {
          const data = ev.data
          if (data instanceof ArrayBuffer) handlers.onFrame(new Uint8Array(data))
          else if (ArrayBuffer.isView(data)) handlers.onFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
          else socket.close(4400, 'text frames are not part of the protocol')
        }
        socket.onerror = () => {
          if (opened || refused) return
          clearTimeout(timer)
          // A browser hides the answer to a refused upgrade (ws hands it over above): ask the relay why.
          const why = socket.on ? Promise.resolve(undefined) : whyRefused(base, request, timeoutMs)
          void why.then((err) => reject(err ?? new MindsyncError('E_UNREACHABLE', `cannot open a WebSocket to ${base}`)))
        }
        socket.onclose = (ev) => {
          if (opened) handlers.onClose(ev.code, ev.reason)
        }
      })
    },
  }
}
