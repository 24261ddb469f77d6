import { fromBase64Url, fromHex, toBase64Url, toHex } from '@mindsync/crypto'
import { CHALLENGE_PATH, SYNC_PATH, decodeFrame, encodeFrame } from '@mindsync/protocol'
import type { ClientMessage, RelayMessage } from '@mindsync/protocol'
import { WebSocket } from 'ws'
import { signAuth } from './fixtures.js'
import type { TestDevice } from './fixtures.js'

/** An upgrade the relay refused: the HTTP status and the JSON reason. */
export interface TestRefusal {
  ok: false
  status: number
  code: string
  message: string
  /** The X-Mindsync-Error header. */
  header: string | undefined
}

/** A raw WebSocket connection to a relay with a log of every decoded message. */
export interface TestConnection {
  ok: true
  ws: WebSocket
  received: RelayMessage[]
  send(...messages: ClientMessage[]): void
  /** Resolves with the first message so far or to come that matches. */
  waitFor<T extends RelayMessage['type']>(type: T, match?: (m: Extract<RelayMessage, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<RelayMessage, { type: T }>>
  /** Resolves when the relay closes the connection. */
  closed: Promise<{ code: number; reason: string }>
  close(): void
}

/** Fetches a challenge over HTTP: `httpUrl` like http://127.0.0.1:8787. */
export async function fetchChallenge(httpUrl: string): Promise<{ relayId: Uint8Array; challenge: Uint8Array }> {
  const res = await fetch(`${httpUrl}${CHALLENGE_PATH}`)
  const body = (await res.json()) as { relayId: string; challenge: string }
  return { relayId: fromHex(body.relayId), challenge: fromBase64Url(body.challenge) }
}

/** The query parameters of a correctly signed sync request. */
export async function authParams(httpUrl: string, device: TestDevice, vaultId?: Uint8Array): Promise<Record<string, string>> {
  const { relayId, challenge } = await fetchChallenge(httpUrl)
  const params: Record<string, string> = {
    device: toBase64Url(device.signPub),
    challenge: toBase64Url(challenge),
    sig: toBase64Url(signAuth(device, relayId, vaultId, challenge)),
  }
  if (vaultId) params.vault = toHex(vaultId)
  return params
}

/** Opens `/v1/sync` with the given query parameters. */
export function connectWithParams(httpUrl: string, params: Record<string, string>): Promise<TestConnection | TestRefusal> {
  const url = `${httpUrl.replace(/^http/, 'ws')}${SYNC_PATH}?${new URLSearchParams(params).toString()}`
  const ws = new WebSocket(url)
  const received: RelayMessage[] = []
  const listeners = new Set<() => void>()
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString('utf8') })
      for (const l of listeners) l()
    })
  })
  ws.on('message', (data: Buffer) => {
    for (const m of decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))) received.push(m as RelayMessage)
    for (const l of listeners) l()
  })
  const connection: TestConnection = {
    ok: true,
    ws,
    received,
    closed,
    send: (...messages) => ws.send(encodeFrame(messages)),
    close: () => ws.close(),
    waitFor(type, match = () => true, timeoutMs = 5_000) {
      type M = Extract<RelayMessage, { type: typeof type }>
      const find = (): M | undefined => received.find((m): m is M => m.type === type && match(m as M))
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = find()
          if (m) {
            done()
            resolve(m)
          } else if (ws.readyState === ws.CLOSED) {
            done()
            reject(new Error(`connection closed while waiting for ${type}`))
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`timed out waiting for ${type}; got ${received.map((m) => m.type).join(',')}`))
        }, timeoutMs)
        const done = (): void => {
          clearTimeout(timer)
          listeners.delete(check)
        }
        listeners.add(check)
        check()
      })
    },
  }
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(connection))
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => {
        body += c.toString('utf8')
      })
      res.on('end', () => {
        const parsed = JSON.parse(body || '{}') as { code?: string; message?: string }
        const header = res.headers['x-mindsync-error']
        resolve({ ok: false, status: res.statusCode ?? 0, code: parsed.code ?? '', message: parsed.message ?? '', header: Array.isArray(header) ? header[0] : header })
      })
    })
    ws.once('error', (e) => {
      if (ws.readyState !== ws.OPEN) reject(e)
    })
  })
}

/** Authenticates `device` (for `vaultId`, or letting the relay find its vault) and opens a connection. */
export async function connectTestDevice(httpUrl: string, device: TestDevice, vaultId?: Uint8Array): Promise<TestConnection | TestRefusal> {
  return connectWithParams(httpUrl, await authParams(httpUrl, device, vaultId))
}

/** Like connectTestDevice, but throws on a refusal. */
export async function mustConnect(httpUrl: string, device: TestDevice, vaultId?: Uint8Array): Promise<TestConnection> {
  const c = await connectTestDevice(httpUrl, device, vaultId)
  if (!c.ok) throw new Error(`relay refused the device: ${c.status} ${c.code} ${c.message}`)
  return c
}
