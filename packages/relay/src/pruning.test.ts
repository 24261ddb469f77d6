import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toHex } from '@mindsync/crypto'
import { EnvelopeKind, decodeEnvelope } from '@mindsync/protocol'
import type { Envelope } from '@mindsync/protocol'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createRelay } from './server.js'
import type { Relay } from './server.js'
import { createSqliteRelayStorage } from './sqliteStorage.js'
import type { RelayStorage } from './storage.js'
import { createTestDevice, createTestVault, mustConnect, testDocId } from './testing/index.js'
import type { TestConnection, TestDevice } from './testing/index.js'

const dir = mkdtempSync(join(tmpdir(), 'mindsync-relay-pruning-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** serverSeq and kind of every envelope a connection received, in order. */
const receivedItems = (c: TestConnection): { serverSeq: number; kind: number; author: string }[] =>
  c.received.flatMap((m) =>
    m.type === 'envelopes'
      ? m.items.map((it) => {
          const h = decodeEnvelope(it.envelope).header
          return { serverSeq: it.serverSeq, kind: h.kind, author: toHex(h.deviceId) }
        })
      : [],
  )

describe('snapshots and pruning over a real WebSocket, on a SQLite file', () => {
  let relay: Relay | undefined
  let storage: RelayStorage
  let http: string
  const dbPath = join(dir, 'relay.db')

  async function start(): Promise<void> {
    storage = createSqliteRelayStorage(dbPath)
    relay = createRelay({ storage, port: 0 })
    http = `http://127.0.0.1:${(await relay.listen()).port}`
  }
  afterEach(async () => {
    await relay?.close()
    relay = undefined
  })

  /** Pushes and waits for the ack; returns its serverSeq. */
  async function push(c: TestConnection, env: Envelope): Promise<number> {
    const before = c.received.length
    c.send({ type: 'push', envelope: env.bytes })
    const ack = await c.waitFor('ack', (m) => m.seq === env.header.seq && c.received.indexOf(m) >= before)
    return ack.serverSeq
  }

  /** A new device of the vault subscribes from cursor 0; returns what it was sent and the caught-up head. */
  async function freshSubscriber(device: TestDevice, doc: Uint8Array): Promise<{ items: ReturnType<typeof receivedItems>; head: number }> {
    const c = await mustConnect(http, device)
    c.send({ type: 'subscribe', docId: doc, cursor: 0 })
    const { head } = await c.waitFor('caughtUp')
    const items = receivedItems(c)
    c.close()
    return { items, head }
  }

  it('a snapshot of 50 updates from two devices replaces them; chains go on after a restart; a concurrent snapshot prunes nothing', async () => {
    await start()
    const owner = createTestDevice()
    const laptop = createTestDevice()
    const vault = createTestVault(owner)
    const doc = testDocId()
    const o = await mustConnect(http, owner, vault.vaultId)
    o.send({ type: 'appendOp', op: vault.genesis.bytes }, { type: 'appendOp', op: vault.addDevice(owner, laptop).bytes })
    await o.waitFor('opResult', (m) => m.index === 1 && m.code === '')
    let l = await mustConnect(http, laptop)

    // 50 updates, interleaved from two devices.
    const updates: Envelope[] = []
    for (let i = 0; i < 25; i++) {
      const a = vault.envelope(owner, doc, `owner edit ${i} `.repeat(20))
      const b = vault.envelope(laptop, doc, `laptop edit ${i} `.repeat(20))
      updates.push(a, b)
      o.send({ type: 'push', envelope: a.bytes })
      l.send({ type: 'push', envelope: b.bytes })
    }
    await o.waitFor('ack', (m) => m.seq === 25)
    await l.waitFor('ack', (m) => m.seq === 25)
    const before = await storage.docUsage(vault.vaultId, doc)
    expect(before.envelopes).toBe(50)

    // The owner snapshots everything both devices wrote.
    const s1 = vault.snapshot(owner, doc, 'the whole doc', updates)
    expect(s1.header.covers?.map((c) => c.seq)).toEqual([25, 25])
    const s1Seq = await push(o, s1)
    expect(s1Seq).toBe(51)
    const after = await storage.docUsage(vault.vaultId, doc)
    expect(after).toEqual({ envelopes: 1, bytes: s1.bytes.length })
    expect(after.bytes).toBeLessThan(before.bytes)
    expect(after.bytes).toBeLessThan(2 * s1.bytes.length)

    const phone = createTestDevice()
    o.send({ type: 'appendOp', op: vault.addDevice(owner, phone).bytes })
    await o.waitFor('opResult', (m) => m.index === 2 && m.code === '')
    const first = await freshSubscriber(phone, doc)
    expect(first.items).toEqual([{ serverSeq: 51, kind: EnvelopeKind.snapshot, author: toHex(owner.deviceId) }])
    expect(first.head).toBe(51)

    // A restart empties every cache: the laptop's chain, whose envelopes are all pruned, goes on from the stored head.
    o.close()
    l.close()
    await relay?.close()
    await start()
    l = await mustConnect(http, laptop)
    const o2 = await mustConnect(http, owner, vault.vaultId)
    const l26 = vault.envelope(laptop, doc, 'laptop after the snapshot')
    expect(await push(l, l26)).toBe(52)
    const o27 = vault.envelope(owner, doc, 'owner after the snapshot')
    expect(await push(o2, o27)).toBe(53)
    // Resending an envelope that was stored and pruned is acknowledged with the base snapshot's serverSeq.
    expect(await push(l, updates[19] as Envelope)).toBe(51)
    const o28 = vault.envelope(owner, doc, 'owner again')
    expect(await push(o2, o28)).toBe(54)
    const l27 = vault.envelope(laptop, doc, 'laptop again')
    expect(await push(l, l27)).toBe(55)

    const second = await freshSubscriber(phone, doc)
    expect(second.items.map((i) => i.serverSeq)).toEqual([51, 52, 53, 54, 55])

    // Concurrent snapshots: the owner has not seen laptop 27, the laptop has not seen owner 28.
    const s2 = vault.snapshot(owner, doc, 'owner view', [l26, o28])
    const s3 = vault.snapshot(laptop, doc, 'laptop view', [o27, l27])
    const s2Seq = await push(o2, s2)
    expect(s2Seq).toBe(56)
    // s2 dominates s1: s1, owner 27 and 28, laptop 26 go; laptop 27 stays.
    expect((await freshSubscriber(phone, doc)).items.map((i) => i.serverSeq)).toEqual([55, 56])
    const beforeS3 = await storage.docUsage(vault.vaultId, doc)
    expect(await push(l, s3)).toBe(57)
    expect(await storage.docUsage(vault.vaultId, doc)).toEqual({ envelopes: beforeS3.envelopes + 1, bytes: beforeS3.bytes + s3.bytes.length })
    expect((await storage.baseSnapshot(vault.vaultId, doc))?.serverSeq).toBe(56)
    const last = await freshSubscriber(phone, doc)
    expect(last.items.map((i) => [i.serverSeq, i.kind])).toEqual([
      [55, EnvelopeKind.update],
      [56, EnvelopeKind.snapshot],
      [57, EnvelopeKind.snapshot],
    ])
    expect(last.head).toBe(57)

    // Both chains still go on.
    expect(await push(o2, vault.envelope(owner, doc, 'owner 30'))).toBe(58)
    expect(await push(l, vault.envelope(laptop, doc, 'laptop 29'))).toBe(59)
    expect(o2.received.some((m) => m.type === 'reject') || l.received.some((m) => m.type === 'reject')).toBe(false)
  })
})
