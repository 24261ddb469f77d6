import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toBase64Url, toHex } from '@mindsync/crypto'
import { CloseCode, EnvelopeKind, encodeFrame } from '@mindsync/protocol'
import Database from 'better-sqlite3'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createRelay } from './server.js'
import { createSqliteRelayStorage } from './sqliteStorage.js'
import type { RelayStorage } from './storage.js'
import type { Relay } from './server.js'
import { authParams, connectWithParams, createTestDevice, createTestVault, fetchChallenge, mustConnect, signAuth, testDocId } from './testing/index.js'
import type { TestConnection, TestDevice, TestVault } from './testing/index.js'

const dir = mkdtempSync(join(tmpdir(), 'mindsync-relay-server-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

describe('relay server', () => {
  let relay: Relay
  let http: string
  let dbPath: string
  let owner: TestDevice
  let vault: TestVault
  let conn: TestConnection
  let t: number

  beforeEach(async () => {
    dbPath = join(dir, `relay-${n++}.db`)
    t = Date.now()
    relay = createRelay({ dbPath, port: 0, maxFrameBytes: 256 * 1024, limits: { maxEnvelopeBytes: 64 * 1024 }, now: () => t })
    const { port } = await relay.listen()
    http = `http://127.0.0.1:${port}`
    owner = createTestDevice()
    vault = createTestVault(owner)
    conn = await mustConnect(http, owner, vault.vaultId)
    conn.send({ type: 'appendOp', op: vault.genesis.bytes })
    expect(await conn.waitFor('opResult')).toMatchObject({ code: '' })
  })
  afterEach(async () => {
    await relay.close()
  })

  it('serves a challenge (no-store, readable by a web app on any origin), health and 404', async () => {
    const res = await fetch(`${http}/v1/challenge`, { headers: { origin: 'https://app.example' } })
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    const body = (await res.json()) as { relayId: string; challenge: string }
    expect(body.relayId).toMatch(/^[0-9a-f]{32}$/)
    expect(body.challenge).toMatch(/^[A-Za-z0-9_-]{54}$/)
    expect(await (await fetch(`${http}/healthz`)).json()).toEqual({ ok: true })
    const missing = await fetch(`${http}/nope`)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ code: 'E_NOT_FOUND' })
  })

  it('authenticates a member: welcome names relay, vault and device', async () => {
    const c = await mustConnect(http, owner, vault.vaultId)
    const welcome = await c.waitFor('welcome')
    const { relayId } = await fetchChallenge(http)
    expect(toHex(welcome.relayId)).toBe(toHex(relayId))
    expect(toHex(welcome.vaultId)).toBe(toHex(vault.vaultId))
    expect(toHex(welcome.deviceId)).toBe(toHex(owner.deviceId))
    c.close()
  })

  it('refuses in the upgrade with an HTTP status, a JSON reason and X-Mindsync-Error', async () => {
    const stranger = createTestDevice()
    expect(await connectWithParams(http, await authParams(http, stranger, vault.vaultId))).toMatchObject({ ok: false, status: 403, code: 'E_NOT_MEMBER', header: 'E_NOT_MEMBER' })
    expect(await connectWithParams(http, await authParams(http, stranger))).toMatchObject({
      status: 403,
      message: 'this device has not been admitted to any vault yet',
    })

    const params = await authParams(http, owner, vault.vaultId)
    expect(await connectWithParams(http, { ...params, sig: toBase64Url(new Uint8Array(64)) })).toMatchObject({ status: 401, code: 'E_UNAUTHORIZED' })
    const first = await connectWithParams(http, params)
    expect(first.ok).toBe(true)
    expect(await connectWithParams(http, params)).toMatchObject({ status: 401, code: 'E_UNAUTHORIZED', message: expect.stringMatching(/already used/) })

    const late = await authParams(http, owner, vault.vaultId)
    t += 61_000
    expect(await connectWithParams(http, late)).toMatchObject({ status: 401, message: expect.stringMatching(/expired/) })
    expect(await connectWithParams(http, { ...late, device: 'not base64!' })).toMatchObject({ status: 400, code: 'E_BAD_FRAME', message: expect.stringMatching(/device/) })
  })

  it('answers a plain GET of the sync URL with the upgrade’s verdict as JSON, readable from any origin, and opens nothing', async () => {
    const ask = async (params: Record<string, string>) => {
      const res = await fetch(`${http}/v1/sync?${new URLSearchParams(params)}`, { headers: { origin: 'https://app.example' } })
      expect(res.headers.get('access-control-allow-origin')).toBe('*')
      return { status: res.status, ...((await res.json()) as object) }
    }
    const stranger = createTestDevice()
    expect(await ask(await authParams(http, stranger, vault.vaultId))).toMatchObject({ status: 403, code: 'E_NOT_MEMBER' })
    const params = await authParams(http, owner, vault.vaultId)
    expect(await ask({ ...params, sig: toBase64Url(new Uint8Array(64)) })).toMatchObject({ status: 401, code: 'E_UNAUTHORIZED' })
    expect(await ask({ ...params, device: 'not base64!' })).toMatchObject({ status: 400, code: 'E_BAD_FRAME', message: expect.stringMatching(/device/) })
    expect(await ask(params)).toMatchObject({ status: 200, ok: true })
    // The same checks: the challenge is spent, and no session was opened.
    expect(await connectWithParams(http, params)).toMatchObject({ status: 401, message: expect.stringMatching(/already used/) })
    expect(relay.core.stats().sessions).toBe(1)
  })

  it('acks a push only once the row is in the SQLite file', async () => {
    const doc = testDocId()
    const env = vault.envelope(owner, doc, 'breathing, 10 min')
    const reader = new Database(dbPath, { readonly: true })
    const rows = () => reader.prepare('SELECT COUNT(*) FROM envelopes').pluck().get() as number
    expect(rows()).toBe(0)
    let atAck = -1
    conn.ws.on('message', () => {
      if (atAck < 0 && conn.received.some((m) => m.type === 'ack')) atAck = rows()
    })
    conn.send({ type: 'push', envelope: env.bytes })
    await conn.waitFor('ack')
    await new Promise((r) => setTimeout(r, 5))
    expect(atAck).toBe(1)
    reader.close()
  })

  it('fans out to other subscribers and catches up a later one from its cursor', async () => {
    const doc = testDocId()
    const laptop = createTestDevice()
    conn.send({ type: 'appendOp', op: vault.addDevice(owner, laptop).bytes })
    await conn.waitFor('opResult', (m) => m.index === 1)
    const other = await mustConnect(http, laptop)
    other.send({ type: 'subscribe', docId: doc, cursor: 0 })
    await other.waitFor('caughtUp')
    for (let i = 0; i < 5; i++) conn.send({ type: 'push', envelope: vault.envelope(owner, doc, `e${i}`).bytes })
    await other.waitFor('stored', (m) => m.head === 5)
    const late = await mustConnect(http, laptop)
    late.send({ type: 'subscribe', docId: doc, cursor: 2 })
    expect(await late.waitFor('caughtUp')).toMatchObject({ head: 5 })
    const seqs = late.received.flatMap((m) => (m.type === 'envelopes' ? m.items.map((i) => i.serverSeq) : []))
    expect(seqs).toEqual([3, 4, 5])
  })

  it('closes on an envelope for another vault and keeps serving', async () => {
    const other = createTestVault(owner)
    conn.send({ type: 'push', envelope: other.envelope(owner, testDocId(), 'x').bytes })
    expect(await conn.closed).toEqual({ code: CloseCode.forbidden, reason: 'push: envelope vaultId is not the vault of this connection' })
    const again = await mustConnect(http, owner, vault.vaultId)
    again.send({ type: 'push', envelope: vault.envelope(owner, testDocId(), 'fine').bytes })
    expect(await again.waitFor('ack')).toMatchObject({ serverSeq: 1 })
  })

  it('closes on a malformed frame, an oversized envelope, an oversized frame and a text frame', async () => {
    conn.ws.send(new Uint8Array([3, 200]))
    expect(await conn.closed).toMatchObject({ code: CloseCode.badFrame, reason: expect.stringMatching(/envelope/) })

    const c2 = await mustConnect(http, owner, vault.vaultId)
    c2.send({ type: 'push', envelope: vault.envelope(owner, testDocId(), 'x'.repeat(100_000), { detached: true }).bytes })
    expect(await c2.closed).toMatchObject({ code: CloseCode.tooLarge, reason: expect.stringMatching(/above the limit of 65536/) })

    const c3 = await mustConnect(http, owner, vault.vaultId)
    c3.ws.send(new Uint8Array(300 * 1024))
    expect((await c3.closed).code).toBe(CloseCode.tooLarge)

    const c4 = await mustConnect(http, owner, vault.vaultId)
    c4.ws.send('hello')
    expect(await c4.closed).toEqual({ code: CloseCode.badFrame, reason: 'text frames are not accepted; send binary frames' })

    const c5 = await mustConnect(http, owner, vault.vaultId)
    c5.send({ type: 'hello', opsFrom: 0 })
    expect(await c5.waitFor('ops')).toMatchObject({ from: 0 })
  })

  it('fans awareness out and never stores it (the SQLite file holds no trace)', async () => {
    const doc = testDocId()
    const peer = await mustConnect(http, owner, vault.vaultId)
    peer.send({ type: 'subscribe', docId: doc, cursor: 0 })
    await peer.waitFor('caughtUp')
    const aw = vault.awareness(owner, doc, 'AWARENESS-MARKER')
    expect(aw.header.kind).toBe(EnvelopeKind.awareness)
    conn.send({ type: 'awareness', envelope: aw.bytes })
    const got = await peer.waitFor('awareness')
    expect(toHex(got.envelope)).toBe(toHex(aw.bytes))
    await relay.close()
    const signature = Buffer.from(aw.signature)
    for (const file of readdirSync(dir).filter((f) => f.startsWith(dbPath.split('/').pop() as string))) {
      expect(readFileSync(join(dir, file)).includes(signature), file).toBe(false)
    }
    const db = new Database(dbPath, { readonly: true })
    expect(db.prepare('SELECT COUNT(*) FROM envelopes').pluck().get()).toBe(0)
    db.close()
  })

  it('registration then genesis over the network; a non-genesis op from a registration session is refused', async () => {
    const alice = createTestDevice()
    const hers = createTestVault(alice)
    const reg = await mustConnect(http, alice, hers.vaultId)
    const phone = createTestDevice()
    const add = hers.addDevice(alice, phone)
    reg.send({ type: 'appendOp', op: add.bytes })
    expect(await reg.waitFor('opResult')).toMatchObject({ index: 1, code: 'E_FORBIDDEN' })
    reg.send({ type: 'appendOp', op: hers.genesis.bytes }, { type: 'appendOp', op: add.bytes })
    expect(await reg.waitFor('opResult', (m) => m.index === 0)).toMatchObject({ code: '' })
    expect(await reg.waitFor('opResult', (m) => m.index === 1 && m.code === '')).toBeTruthy()
    const p = await mustConnect(http, phone)
    expect(toHex((await p.waitFor('welcome')).vaultId)).toBe(toHex(hers.vaultId))
  })

  it('close() finishes the batch being written, sends its acks, then closes every socket with 1001', async () => {
    const path = join(dir, `shutdown-${n++}.db`)
    const inner = createSqliteRelayStorage(path)
    let entered = () => {}
    const writing = new Promise<void>((r) => {
      entered = r
    })
    let release = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    const storage: RelayStorage = {
      ...inner,
      async appendEnvelopes(batch) {
        entered()
        await gate
        return inner.appendEnvelopes(batch)
      },
    }
    const r2 = createRelay({ storage, port: 0 })
    const { port } = await r2.listen()
    const url = `http://127.0.0.1:${port}`
    const reg = await mustConnect(url, owner, vault.vaultId)
    reg.send({ type: 'appendOp', op: vault.genesis.bytes })
    await reg.waitFor('opResult')
    reg.send({ type: 'push', envelope: vault.envelope(owner, testDocId(), 'last').bytes })
    await writing
    const closing = r2.close()
    release()
    await closing
    expect(await reg.closed).toEqual({ code: 1001, reason: 'relay shutting down' })
    expect(reg.received.some((m) => m.type === 'ack')).toBe(true)
    const db = new Database(path, { readonly: true })
    expect(db.prepare('SELECT COUNT(*) FROM envelopes').pluck().get()).toBe(1)
    db.close()
  })

  it('survives request targets that do not parse, on plain requests and upgrades', async () => {
    const port = new URL(http).port
    for (const upgrade of [false, true]) {
      const reply = await new Promise<string>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          const extra = upgrade ? 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' : ''
          socket.write(`GET http://[::1 HTTP/1.1\r\nHost: x\r\n${extra}\r\n`)
        })
        let data = ''
        socket.on('data', (c) => {
          data += c.toString()
        })
        socket.on('close', () => resolve(data))
        socket.on('error', () => resolve(data))
      })
      expect(reply.slice(0, 12)).toMatch(/HTTP\/1.1 4\d\d/)
    }
    expect(await (await fetch(`${http}/healthz`)).json()).toEqual({ ok: true })
  })

  it('a raw client can sign with the relay id from the challenge', async () => {
    const { relayId, challenge } = await fetchChallenge(http)
    const params = new URLSearchParams({
      device: toBase64Url(owner.signPub),
      vault: toHex(vault.vaultId),
      challenge: toBase64Url(challenge),
      sig: toBase64Url(signAuth(owner, relayId, vault.vaultId, challenge)),
    })
    const ws = new WebSocket(`${http.replace('http', 'ws')}/v1/sync?${params.toString()}`)
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    ws.send(encodeFrame([{ type: 'hello', opsFrom: 0 }]))
    await new Promise((resolve) => ws.once('message', resolve))
    ws.close()
  })
})
