import { decodeFrame, encodeFrame } from '@mindsync/protocol'
import type { ClientMessage, RelayMessage } from '@mindsync/protocol'
import type { AuthResult } from '../auth.js'
import type { RelayCore, SessionHandlers } from '../core.js'
import { createTestDevice, createTestVault, signAuth } from './fixtures.js'
import type { TestDevice, TestVault } from './fixtures.js'

/** An in-memory connection to a relay core: no sockets, every frame decoded and logged. */
export interface CoreConnection {
  received: RelayMessage[]
  /** Number of frames received (each may hold several messages). */
  frames(): number
  send(...messages: ClientMessage[]): void
  /** Hands the core raw bytes as one frame. */
  sendRaw(frame: Uint8Array): void
  /** How the relay closed the connection, once it has. */
  closedWith(): { code: number; reason: string } | undefined
  /** Resolves with the first message so far or to come that matches. */
  waitFor<T extends RelayMessage['type']>(type: T, match?: (m: Extract<RelayMessage, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<RelayMessage, { type: T }>>
  /** Resolves when the relay has closed the connection. */
  waitClosed(timeoutMs?: number): Promise<{ code: number; reason: string }>
  /** Pretends the transport holds this many unsent bytes. */
  setBuffered(bytes: number): void
  /** The device goes away. */
  close(): void
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1))

async function until<T>(what: string, find: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = find()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; ${describe()}`)
    await tick()
  }
}

/** Authenticates `device` against the core (for `vaultId`, or letting the relay find its vault). */
export async function authenticateWithCore(core: RelayCore, device: TestDevice, vaultId?: Uint8Array): Promise<AuthResult> {
  const { relayId, challenge } = await core.issueChallenge()
  return core.authenticate({ signPub: device.signPub, vaultId, challenge, signature: signAuth(device, relayId, vaultId, challenge) })
}

/** Opens an in-memory session for an authenticated device; throws when the core refuses it. */
export async function connectToCore(core: RelayCore, device: TestDevice, vaultId?: Uint8Array): Promise<CoreConnection> {
  const result = await authenticateWithCore(core, device, vaultId)
  if (!result.ok) throw new Error(`relay refused the device: ${result.status} ${result.code} ${result.message}`)
  const received: RelayMessage[] = []
  let frames = 0
  let buffered = 0
  let closed: { code: number; reason: string } | undefined
  const handlers: SessionHandlers = core.openSession(result.auth, {
    send(frame) {
      if (closed) throw new Error('send after close')
      frames++
      for (const m of decodeFrame(frame)) received.push(m as RelayMessage)
    },
    close(code, reason) {
      if (Buffer.byteLength(reason) > 123) throw new Error('close reason longer than 123 bytes')
      closed ??= { code, reason }
    },
    bufferedAmount: () => buffered,
  })
  const types = (): string => `got ${received.map((m) => m.type).join(',')}${closed ? `; closed ${closed.code} ${closed.reason}` : ''}`
  return {
    received,
    frames: () => frames,
    send: (...messages) => handlers.receive(encodeFrame(messages)),
    sendRaw: (frame) => handlers.receive(frame),
    closedWith: () => closed,
    waitFor(type, match = () => true, timeoutMs = 5_000) {
      type M = Extract<RelayMessage, { type: typeof type }>
      return until(type, () => received.find((m): m is M => m.type === type && match(m as M)), timeoutMs, types)
    },
    waitClosed: (timeoutMs = 5_000) => until('close', () => closed, timeoutMs, types),
    setBuffered(bytes) {
      buffered = bytes
    },
    close() {
      closed ??= { code: 1000, reason: 'client closed' }
      handlers.closed()
    },
  }
}

/** Sends membership ops one by one and waits for each result; throws when one is refused. */
export async function appendOps(conn: CoreConnection, ...ops: { index: number; bytes: Uint8Array }[]): Promise<void> {
  for (const op of ops) {
    conn.send({ type: 'appendOp', op: op.bytes })
    const result = await conn.waitFor('opResult', (m) => m.index === op.index)
    if (result.code !== '') throw new Error(`op ${op.index} refused: ${result.code} ${result.message}`)
  }
}

/** Creates a vault on the core: a new owner device registers it with its genesis op. */
export async function registerVault(core: RelayCore, owner: TestDevice = createTestDevice()): Promise<{ owner: TestDevice; vault: TestVault; conn: CoreConnection }> {
  const vault = createTestVault(owner)
  const conn = await connectToCore(core, owner, vault.vaultId)
  await appendOps(conn, vault.genesis)
  return { owner, vault, conn }
}
