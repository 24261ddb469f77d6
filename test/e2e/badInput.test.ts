import { request } from 'node:http'
import { join } from 'node:path'
import { toBase64Url } from '@mindsync/crypto'
import { CloseCode, encodeFrame } from '@mindsync/protocol'
import { authParams, connectWithParams, createTestDevice, createTestVault, mustConnect, testDocId } from '@mindsync/relay/testing'
import type { TestConnection, TestDevice, TestVault } from '@mindsync/relay/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deviceIdIn, ok, openSqlite, relayRows, startRelay, tempDir } from '../helpers.js'
import type { RelayProcess, RelayRow } from '../helpers.js'

const MAX_FRAME = 65_536

/** A WebSocket upgrade of /v1/sync with no parameters, answered as plain HTTP. */
function bareUpgrade(httpUrl: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${httpUrl}/v1/sync`, {
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    })
    req.on('upgrade', (_res, socket) => {
      socket.destroy()
      reject(new Error('the relay accepted an upgrade without credentials'))
    })
    req.on('response', (res) => {
      let body = ''
      res.on('data', (c: Buffer) => {
        body += c.toString('utf8')
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('bad input against the real relay daemon', () => {
  const tmp = tempDir()
  const phone = join(tmp.dir, 'phone')
  let relay: RelayProcess
  let http: string
  let owner: TestDevice
  let member: TestDevice
  let vault: TestVault
  /** A member connection that stays open through every test and keeps pushing. */
  let witness: TestConnection
  const doc = testDocId()
  /** What the relay's file must hold: the rows before any bad input, then each envelope the witness pushed. */
  let baseline: { rows: RelayRow[]; ops: unknown[] }
  const pushed: Buffer[] = []

  const ops = (): unknown[] => {
    const db = openSqlite(relay.db, { readonly: true, fileMustExist: true })
    try {
      return db.prepare('SELECT vault_id, idx, bytes FROM ops ORDER BY vault_id, idx').all()
    } finally {
      db.close()
    }
  }

  /** (e) another client still pushes and gets its ack, and a CLI device still syncs; (f) the stored data is unchanged apart from that. */
  async function stillServingAndUndamaged(after: string): Promise<void> {
    const env = vault.envelope(owner, doc, `after ${after}`)
    witness.send({ type: 'push', envelope: env.bytes })
    const ack = await witness.waitFor('ack', (m) => m.seq === env.header.seq)
    expect(ack.serverSeq, after).toBe(env.header.seq)
    pushed.push(Buffer.from(env.bytes))

    const synced = await ok(phone, ['sync'])
    expect(synced.stdout, after).toMatch(/^synced vault [0-9a-f]{32}: 1 session/m)

    const rows = relayRows(relay.db)
    const key = (r: RelayRow): string => `${r.doc}:${r.serverSeq}`
    const now = new Map(rows.map((r) => [key(r), r]))
    for (const r of baseline.rows) expect(now.get(key(r)), `${after}: row ${key(r)}`).toEqual(r)
    // New rows: the witness's pushes (the phone's syncs add checkpoints, kind 3, which are not data).
    const added = rows.filter((r) => r.kind === 1 && !baseline.rows.some((b) => key(b) === key(r)))
    expect(added.map((r) => r.bytes.toString('hex')), after).toEqual(pushed.map((b) => b.toString('hex')))
    expect(ops(), after).toEqual(baseline.ops)
  }

  /** A fresh authenticated member connection that sends `payload` as one frame; resolves with how the relay closed it. */
  async function sendAndClose(payload: Uint8Array | string): Promise<{ code: number; reason: string }> {
    const c = await mustConnect(http, member, vault.vaultId)
    await c.waitFor('welcome')
    c.ws.send(payload)
    return await c.closed
  }

  beforeAll(async () => {
    relay = await startRelay(join(tmp.dir, 'relay', 'relay.db'), 0, ['--max-frame', String(MAX_FRAME)])
    http = relay.url.replace(/^ws/, 'http')

    // A CLI device in its own vault, with one entry on the relay.
    await ok(phone, ['init', '--relay', relay.url, '--name', 'phone'])
    await ok(phone, ['log', 'session', '--minutes', '15', '--note', 'before-bad-input'])
    await ok(phone, ['sync'])

    // A raw vault: the owner keeps the witness connection, a second member sends the bad frames.
    owner = createTestDevice()
    member = createTestDevice()
    vault = createTestVault(owner)
    witness = await mustConnect(http, owner, vault.vaultId)
    for (const op of [vault.genesis, vault.addDevice(owner, member)]) {
      witness.send({ type: 'appendOp', op: op.bytes })
      expect(await witness.waitFor('opResult', (m) => m.index === op.index)).toMatchObject({ code: '' })
    }
    for (const text of ['one', 'two', 'three']) witness.send({ type: 'push', envelope: vault.envelope(owner, doc, text).bytes })
    await witness.waitFor('ack', (m) => m.seq === 3)

    baseline = { rows: relayRows(relay.db), ops: ops() }
    // The raw vault's three updates and the CLI phone's one (its syncs also store checkpoints).
    expect(baseline.rows.filter((r) => r.kind === 1)).toHaveLength(4)
    expect(baseline.ops).toHaveLength(3)
  })
  afterAll(async () => {
    witness?.close()
    await relay?.stop()
    tmp.cleanup()
  })

  it('[E6] upgrades without valid credentials are refused in HTTP with a status, a JSON {code, message} and X-Mindsync-Error', async () => {
    const bare = await bareUpgrade(http)
    expect(bare.status).toBe(400)
    expect(bare.headers['content-type']).toMatch(/^application\/json/)
    expect(bare.headers['x-mindsync-error']).toBe('E_BAD_FRAME')
    const body = JSON.parse(bare.body) as Record<string, unknown>
    expect(Object.keys(body).sort()).toEqual(['code', 'message'])
    expect(body).toMatchObject({ code: 'E_BAD_FRAME', message: expect.stringMatching(/device|vault|challenge|sig/) })

    const forged = await authParams(http, owner, vault.vaultId)
    expect(await connectWithParams(http, { ...forged, sig: toBase64Url(new Uint8Array(64)) })).toMatchObject({ ok: false, status: 401, code: 'E_UNAUTHORIZED', header: 'E_UNAUTHORIZED' })

    const once = await authParams(http, owner, vault.vaultId)
    const first = await connectWithParams(http, once)
    expect(first.ok).toBe(true)
    if (first.ok) first.close()
    expect(await connectWithParams(http, once)).toMatchObject({ ok: false, status: 401, code: 'E_UNAUTHORIZED', header: 'E_UNAUTHORIZED', message: expect.stringMatching(/used/) })

    const stranger = createTestDevice()
    expect(await connectWithParams(http, await authParams(http, stranger, vault.vaultId))).toMatchObject({ ok: false, status: 403, code: 'E_NOT_MEMBER', header: 'E_NOT_MEMBER' })

    await stillServingAndUndamaged('the refused upgrades')
  })

  it('[E6] a member sending a malformed frame is closed with 4400 and a reason naming the problem', async () => {
    const garbage = await sendAndClose(new Uint8Array([0x7f, 0xde, 0xad, 0xbe, 0xef]))
    expect(garbage).toMatchObject({ code: CloseCode.badFrame, reason: expect.stringMatching(/message type 127/) })
    await stillServingAndUndamaged('garbage bytes')

    // A push cut short: the envelope's length says more bytes follow than the frame holds.
    const push = encodeFrame([{ type: 'push', envelope: vault.envelope(member, doc, 'cut short', { detached: true }).bytes }])
    const cut = await sendAndClose(push.subarray(0, push.length - 40))
    expect(cut).toMatchObject({ code: CloseCode.badFrame, reason: expect.stringMatching(/envelope/) })
    await stillServingAndUndamaged('a truncated push frame')

    // A well-formed push whose envelope is truncated (its signature is missing).
    const env = vault.envelope(member, doc, 'no signature', { detached: true }).bytes
    const headless = await sendAndClose(encodeFrame([{ type: 'push', envelope: env.subarray(0, env.length - 64) }]))
    expect(headless).toMatchObject({ code: CloseCode.badFrame, reason: expect.stringMatching(/^push: envelope: signature/) })
    await stillServingAndUndamaged('a push of a truncated envelope')

    // A valid push followed by garbage in the same frame: the frame is refused whole, nothing of it is stored.
    const valid = encodeFrame([{ type: 'push', envelope: vault.envelope(member, doc, 'valid but followed by garbage', { detached: true }).bytes }])
    const mixed = await sendAndClose(Buffer.concat([valid, Buffer.from([0x7f, 0x00])]))
    expect(mixed).toMatchObject({ code: CloseCode.badFrame, reason: expect.stringMatching(/message type 127/) })
    await stillServingAndUndamaged('a valid push followed by garbage')
  })

  it('[E6] a frame over the daemon --max-frame is closed with 1009', async () => {
    const closed = await sendAndClose(new Uint8Array(MAX_FRAME + 1024))
    expect(closed.code).toBe(CloseCode.tooLarge)
    await stillServingAndUndamaged('an oversized frame')
  })

  it('[E6] a text frame is refused with 4400', async () => {
    expect(await sendAndClose('{"type":"push"}')).toMatchObject({ code: CloseCode.badFrame, reason: expect.stringMatching(/text frames/) })
    await stillServingAndUndamaged('a text frame')
  })

  it('[E6] the stored-data check sees a real change: a new CLI entry adds exactly one row', async () => {
    const updates = (): RelayRow[] => relayRows(relay.db).filter((r) => r.kind === 1)
    const before = updates()
    const phoneId = deviceIdIn((await ok(phone, ['status'])).stdout)
    await ok(phone, ['log', 'mood', '--mood', '3', '--note', 'after-bad-input'])
    await ok(phone, ['sync'])
    const after = updates()
    expect(after).toHaveLength(before.length + 1)
    expect(after.filter((r) => r.deviceId === phoneId)).toHaveLength(2)
  })
})
