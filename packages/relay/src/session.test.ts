import { CloseCode, EnvelopeKind, Scope, encodeFrame } from '@mindsync/protocol'
import { describe, expect, it } from 'vitest'
import { createRelayCore } from './core.js'
import { createMemoryRelayStorage } from './memoryStorage.js'
import { appendOps, connectToCore, createTestDevice, createTestVault, registerVault, testDocId } from './testing/index.js'

async function setup(limits = {}) {
  const storage = createMemoryRelayStorage()
  const core = createRelayCore({ storage, limits })
  const { vault, owner, conn } = await registerVault(core)
  return { storage, core, vault, owner, conn, doc: testDocId() }
}

describe('push', () => {
  it('stores an envelope and acks it with its server seq', async () => {
    const { storage, vault, owner, conn, doc } = await setup()
    const env = vault.envelope(owner, doc, 'sat 20 minutes')
    conn.send({ type: 'push', envelope: env.bytes })
    expect(await conn.waitFor('ack')).toMatchObject({ seq: 1, serverSeq: 1 })
    const [stored] = await storage.readEnvelopes(vault.vaultId, doc, 0, 10, 1 << 20)
    expect([...(stored?.envelope ?? [])]).toEqual([...env.bytes])
  })

  it('acks a resent envelope again with the stored server seq (idempotent); a resend while pending shares the one ack', async () => {
    const { storage, vault, owner, conn, doc } = await setup()
    const a = vault.envelope(owner, doc, 'a')
    const b = vault.envelope(owner, doc, 'b')
    conn.send({ type: 'push', envelope: a.bytes }, { type: 'push', envelope: b.bytes }, { type: 'push', envelope: b.bytes })
    await conn.waitFor('ack', (m) => m.seq === 2)
    conn.send({ type: 'push', envelope: a.bytes })
    await conn.waitFor('ack', (m) => m.seq === 1 && conn.received.filter((x) => x.type === 'ack' && x.seq === 1).length === 2)
    const acks = conn.received.filter((m) => m.type === 'ack')
    expect(acks.map((m) => m.type === 'ack' && [m.seq, m.serverSeq])).toEqual([[1, 1], [2, 2], [1, 1]])
    expect(await storage.headSeq(vault.vaultId, doc)).toBe(2)
  })

  it('rejects a different envelope with a used seq (E_EQUIVOCATION) and a broken chain (E_CHAIN)', async () => {
    const { vault, owner, conn, doc } = await setup()
    const first = vault.envelope(owner, doc, 'one')
    conn.send({ type: 'push', envelope: first.bytes })
    await conn.waitFor('ack')
    const twin = vault.envelope(owner, doc, 'other one', { seq: 1, prevHash: new Uint8Array(32), detached: true })
    conn.send({ type: 'push', envelope: twin.bytes })
    expect(await conn.waitFor('reject')).toMatchObject({ code: 'E_EQUIVOCATION', seq: 1 })

    const gap = vault.envelope(owner, doc, 'three', { seq: 3, detached: true })
    conn.send({ type: 'push', envelope: gap.bytes })
    expect(await conn.waitFor('reject', (m) => m.seq === 3)).toMatchObject({ code: 'E_CHAIN', message: 'expected seq 2' })

    const badPrev = vault.envelope(owner, doc, 'two', { seq: 2, prevHash: new Uint8Array(32).fill(7), detached: true })
    conn.send({ type: 'push', envelope: badPrev.bytes })
    expect(await conn.waitFor('reject', (m) => m.seq === 2)).toMatchObject({ code: 'E_CHAIN' })
    expect(conn.closedWith()).toBeUndefined()
  })

  it('closes with forbidden on an envelope for another vault or from another device', async () => {
    const { core, vault, owner, conn, doc } = await setup()
    const other = createTestVault(owner)
    conn.send({ type: 'push', envelope: other.envelope(owner, doc, 'x').bytes })
    expect(await conn.waitClosed()).toEqual({ code: CloseCode.forbidden, reason: 'push: envelope vaultId is not the vault of this connection' })

    const phone = createTestDevice()
    const c2 = await connectToCore(core, owner, vault.vaultId)
    await appendOps(c2, vault.addDevice(owner, phone))
    c2.send({ type: 'push', envelope: vault.envelope(phone, doc, 'x').bytes })
    expect(await c2.waitClosed()).toEqual({ code: CloseCode.forbidden, reason: 'push: envelope deviceId is not the authenticated device' })
  })

  it('refuses a device without write scope (E_SCOPE, then forbidden) and an epoch ahead of the vault', async () => {
    const { core, vault, owner, conn, doc } = await setup()
    const watch = createTestDevice()
    await appendOps(conn, vault.addDevice(owner, watch, Scope.read))
    const w = await connectToCore(core, watch, vault.vaultId)
    w.send({ type: 'push', envelope: vault.envelope(watch, doc, 'hr 60').bytes })
    expect(await w.waitFor('reject')).toMatchObject({ code: 'E_SCOPE' })
    expect(await w.waitClosed()).toMatchObject({ code: CloseCode.forbidden })

    conn.send({ type: 'push', envelope: vault.envelope(owner, doc, 'future', { epoch: 5, detached: true }).bytes })
    expect(await conn.waitFor('reject')).toMatchObject({ code: 'E_UNKNOWN_EPOCH' })
  })

  it('closes on an awareness envelope pushed for storage, an oversized and a malformed envelope', async () => {
    const { core, vault, owner, conn, doc } = await setup({ maxEnvelopeBytes: 2048 })
    conn.send({ type: 'push', envelope: vault.awareness(owner, doc, 'here').bytes })
    expect(await conn.waitClosed()).toMatchObject({ code: CloseCode.badFrame, reason: expect.stringMatching(/awareness/) })

    const big = await connectToCore(core, owner, vault.vaultId)
    big.send({ type: 'push', envelope: vault.envelope(owner, doc, 'x'.repeat(4000), { detached: true }).bytes })
    expect(await big.waitClosed()).toMatchObject({ code: CloseCode.tooLarge, reason: expect.stringMatching(/above the limit of 2048/) })

    const bad = await connectToCore(core, owner, vault.vaultId)
    const bytes = vault.envelope(owner, doc, 'x', { detached: true }).bytes.slice()
    bytes[1] = 9 // kind
    bad.send({ type: 'push', envelope: bytes })
    expect(await bad.waitClosed()).toEqual({ code: CloseCode.badFrame, reason: 'push: envelope: kind 9 is unknown' })
  })

  it('closes on an undecodable frame or a relay-only message, and keeps serving others', async () => {
    const { core, vault, owner, conn, doc } = await setup()
    conn.sendRaw(new Uint8Array([2, 1, 2, 3]))
    expect(await conn.waitClosed()).toEqual({ code: CloseCode.badFrame, reason: 'frame: docId needs 16 bytes, only 3 left' })

    const c2 = await connectToCore(core, owner, vault.vaultId)
    c2.sendRaw(encodeFrame([{ type: 'caughtUp', docId: doc, head: 1 }]))
    expect(await c2.waitClosed()).toMatchObject({ code: CloseCode.badFrame, reason: 'frame: message type caughtUp is not sent by devices' })

    const c3 = await connectToCore(core, owner, vault.vaultId)
    c3.send({ type: 'push', envelope: vault.envelope(owner, doc, 'still here').bytes })
    expect(await c3.waitFor('ack')).toMatchObject({ serverSeq: 1 })
  })

  it('stores nothing of an awareness message and fans it out to the other subscribers', async () => {
    const { storage, core, vault, owner, conn, doc } = await setup()
    const other = await connectToCore(core, owner, vault.vaultId)
    other.send({ type: 'subscribe', docId: doc, cursor: 0 })
    conn.send({ type: 'subscribe', docId: doc, cursor: 0 })
    await other.waitFor('caughtUp')
    await conn.waitFor('caughtUp')
    const aw = vault.awareness(owner, doc, 'cursor at 3')
    expect(aw.header.kind).toBe(EnvelopeKind.awareness)
    conn.send({ type: 'awareness', envelope: aw.bytes })
    const got = await other.waitFor('awareness')
    expect([...got.envelope]).toEqual([...aw.bytes])
    await new Promise((r) => setTimeout(r, 20))
    expect(conn.received.some((m) => m.type === 'awareness')).toBe(false)
    expect(await storage.headSeq(vault.vaultId, doc)).toBe(0)

    conn.send({ type: 'awareness', envelope: vault.envelope(owner, doc, 'not awareness').bytes })
    expect(await conn.waitClosed()).toMatchObject({ code: CloseCode.badFrame, reason: 'awareness: kind must be awareness' })
  })
})
