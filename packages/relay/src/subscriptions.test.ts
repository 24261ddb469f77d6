import { CloseCode } from '@mindsync/protocol'
import type { RelayMessage } from '@mindsync/protocol'
import { describe, expect, it } from 'vitest'
import { createRelayCore } from './core.js'
import { createMemoryRelayStorage } from './memoryStorage.js'
import type { RelayStorage } from './storage.js'
import { connectToCore, createTestDevice, appendOps, deliveredHead, receivedSeqs, registerVault, testDocId } from './testing/index.js'
import type { CoreConnection, TestDevice, TestVault } from './testing/index.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** serverSeqs of every envelope the connection received for the doc, in arrival order. */
const seqsOf = (c: CoreConnection, docId: Uint8Array): number[] =>
  c.received.flatMap((m: RelayMessage) => (m.type === 'envelopes' && Buffer.from(m.docId).equals(Buffer.from(docId)) ? m.items.map((i) => i.serverSeq) : []))

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/** serverSeq by hex envelope bytes, for everything the storage holds of a doc. */
async function storedSeqs(storage: RelayStorage, vaultId: Uint8Array, docId: Uint8Array): Promise<Map<string, number>> {
  const items = await storage.readEnvelopes(vaultId, docId, 0, 1_000_000, 1 << 30)
  return new Map(items.map((it) => [Buffer.from(it.envelope).toString('hex'), it.serverSeq]))
}

/** Waits until the connection's cursor for the doc would have reached `head`. */
async function waitDelivered(c: CoreConnection, docId: Uint8Array, head: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (deliveredHead(c.received, docId) < head) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for serverSeq ${head}; at ${deliveredHead(c.received, docId)}`)
    await sleep(1)
  }
}

/** A small seeded generator, so a failing run can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

async function pushAll(conn: CoreConnection, vault: TestVault, device: TestDevice, docId: Uint8Array, count: number): Promise<void> {
  const envs = Array.from({ length: count }, (_, i) => vault.envelope(device, docId, `entry ${i}`))
  for (const env of envs) conn.send({ type: 'push', envelope: env.bytes })
  const last = envs[envs.length - 1]?.header.seq
  await conn.waitFor('ack', (m) => m.seq === last)
}

/** A vault with its owner connected as `conn`, and a second connection of the owner subscribed live to a new doc. */
async function withLiveReader(core: ReturnType<typeof createRelayCore>) {
  const { vault, owner, conn } = await registerVault(core)
  const doc = testDocId()
  const reader = await connectToCore(core, owner, vault.vaultId)
  reader.send({ type: 'subscribe', docId: doc, cursor: 0 })
  await reader.waitFor('caughtUp')
  return { vault, owner, conn, doc, reader }
}

describe('subscriptions', () => {
  it('catch-up pages from the cursor, then caughtUp, then live envelopes from others only', async () => {
    const core = createRelayCore({ storage: createMemoryRelayStorage(), limits: { pageItems: 4 } })
    const { vault, owner, conn } = await registerVault(core)
    const doc = testDocId()
    await pushAll(conn, vault, owner, doc, 10)

    const reader = await connectToCore(core, owner, vault.vaultId)
    reader.send({ type: 'subscribe', docId: doc, cursor: 3 })
    expect(await reader.waitFor('caughtUp')).toMatchObject({ head: 10 })
    expect(seqsOf(reader, doc)).toEqual(range(4, 10))
    const pages = reader.received.filter((m) => m.type === 'envelopes')
    expect(pages.map((p) => p.type === 'envelopes' && p.items.length)).toEqual([4, 3])

    conn.send({ type: 'subscribe', docId: doc, cursor: 10 })
    await conn.waitFor('caughtUp')
    const live = vault.envelope(owner, doc, 'live')
    conn.send({ type: 'push', envelope: live.bytes })
    // Live: sent as soon as it is accepted (serverSeq 0), then a marker once it is stored.
    const early = await reader.waitFor('envelopes', (m) => m.items.some((i) => i.serverSeq === 0))
    expect(Buffer.from(early.items[0]!.envelope).equals(Buffer.from(live.bytes))).toBe(true)
    expect(await reader.waitFor('stored')).toMatchObject({ head: 11 })
    expect(await conn.waitFor('ack', (m) => m.seq === 11)).toMatchObject({ serverSeq: 11 })
    expect(seqsOf(conn, doc)).toEqual([])
  })

  it('[early] sends a live push to the other subscribers before it is stored; the ack and the stored marker wait for the disk', async () => {
    const inner = createMemoryRelayStorage()
    let release = () => {}
    let hold: Promise<void> | undefined
    const storage: RelayStorage = {
      ...inner,
      async appendEnvelopes(batch) {
        if (hold) await hold
        return inner.appendEnvelopes(batch)
      },
    }
    const core = createRelayCore({ storage })
    const { vault, owner, conn, doc, reader } = await withLiveReader(core)
    hold = new Promise((r) => {
      release = r
    })
    const env = vault.envelope(owner, doc, 'one')
    conn.send({ type: 'push', envelope: env.bytes })
    const early = await reader.waitFor('envelopes')
    expect(early.items).toHaveLength(1)
    expect(early.items[0]!.serverSeq).toBe(0)
    await sleep(80)
    // Not on disk yet: no ack for the author, no stored marker for the reader.
    expect(conn.received.some((m) => m.type === 'ack')).toBe(false)
    expect(reader.received.some((m) => m.type === 'stored')).toBe(false)
    release()
    expect(await conn.waitFor('ack')).toMatchObject({ seq: 1, serverSeq: 1 })
    expect(await reader.waitFor('stored')).toMatchObject({ head: 1 })
    expect(seqsOf(reader, doc)).toEqual([0])
  })

  it('[marker] each stored head gets its marker once, whether it left with the next envelope or on the timer, round after round', async () => {
    const core = createRelayCore({ storage: createMemoryRelayStorage() })
    const { vault, owner, conn, doc, reader } = await withLiveReader(core)
    const markers = (): number[] => reader.received.flatMap((m) => (m.type === 'stored' ? [m.head] : []))
    const push = async (text: string): Promise<void> => {
      const env = vault.envelope(owner, doc, text)
      conn.send({ type: 'push', envelope: env.bytes })
      await conn.waitFor('ack', (m) => m.seq === env.header.seq)
    }
    // Alone, a marker waits for the timer; three rounds, each after the last marker went out.
    for (const head of [1, 2, 3]) {
      await push(`alone ${head}`)
      await reader.waitFor('stored', (m) => m.head === head)
    }
    // Two stores within one timer period: the first marker leaves with the next envelope, the second on the timer.
    await sleep(60)
    await push('four')
    await push('five')
    await reader.waitFor('stored', (m) => m.head === 5)
    await sleep(120)
    expect(markers()).toEqual([1, 2, 3, 4, 5])
  })

  it('[marker-heads] pushes of two authors stored together: the stored markers name each author at its seq', async () => {
    const core = createRelayCore({ storage: createMemoryRelayStorage() })
    const { vault, owner, conn, doc, reader } = await withLiveReader(core)
    const phone = createTestDevice()
    await appendOps(conn, vault.addDevice(owner, phone))
    const phoneConn = await connectToCore(core, phone, vault.vaultId)
    // Sent in the same turn: both land in one group commit.
    conn.send({ type: 'push', envelope: vault.envelope(owner, doc, 'from the owner').bytes })
    phoneConn.send({ type: 'push', envelope: vault.envelope(phone, doc, 'from the phone').bytes })
    await reader.waitFor('stored', (m) => m.head === 2)
    const hex = (d: { deviceId: Uint8Array }) => Buffer.from(d.deviceId).toString('hex')
    const named = reader.received.flatMap((m) => (m.type === 'stored' ? m.heads.map((h) => `${hex(h)}:${h.seq}`) : []))
    expect(named.sort()).toEqual([`${hex(owner)}:1`, `${hex(phone)}:1`].sort())
  })

  it('[early] an envelope whose commit fails was sent early but is never marked stored; its author must push again', async () => {
    const inner = createMemoryRelayStorage()
    let fail = false
    const storage: RelayStorage = {
      ...inner,
      async appendEnvelopes(batch) {
        if (fail) throw new Error('disk full')
        return inner.appendEnvelopes(batch)
      },
    }
    const core = createRelayCore({ storage })
    const { vault, owner, conn } = await registerVault(core)
    const doc = testDocId()
    await pushAll(conn, vault, owner, doc, 1)
    const reader = await connectToCore(core, owner, vault.vaultId)
    reader.send({ type: 'subscribe', docId: doc, cursor: 0 })
    await reader.waitFor('caughtUp')
    fail = true
    conn.send({ type: 'push', envelope: vault.envelope(owner, doc, 'lost').bytes })
    await reader.waitFor('envelopes', (m) => m.items.some((i) => i.serverSeq === 0))
    expect(await conn.waitClosed()).toMatchObject({ code: CloseCode.internal })
    await sleep(80)
    expect(reader.received.some((m) => m.type === 'stored')).toBe(false)
    expect(deliveredHead(reader.received, doc)).toBe(1)
  })

  it('[invariant] every subscriber gets every serverSeq after its cursor exactly once (in order, but for those sent early), with pushes during catch-up', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = rng(seed)
      // The storage's jitter draws from a generator of its own: how often the storage is called
      // depends on timing, and must not change which pushes and subscriptions the seed makes.
      const jitterRandom = rng(seed + 1_000_003)
      const inner = createMemoryRelayStorage()
      // Jitter before and after each read and write, as over a network:
      // a page can be stale when it arrives, and a stored batch can be
      // visible to readers before its fan-out runs.
      const jitter = () => sleep(Math.floor(jitterRandom() * 3))
      const storage: RelayStorage = {
        ...inner,
        async readEnvelopes(...args) {
          await jitter()
          const page = await inner.readEnvelopes(...args)
          await jitter()
          return page
        },
        async headSeq(...args) {
          await jitter()
          return inner.headSeq(...args)
        },
        async appendEnvelopes(batch) {
          await jitter()
          const seqs = await inner.appendEnvelopes(batch)
          await sleep(Math.floor(jitterRandom() * 8))
          return seqs
        },
      }
      const core = createRelayCore({ storage, limits: { pageItems: 5 } })
      const { vault, owner, conn } = await registerVault(core)
      const laptop = createTestDevice()
      await appendOps(conn, vault.addDevice(owner, laptop))
      const writer = await connectToCore(core, laptop, vault.vaultId)
      const doc = testDocId()
      await pushAll(conn, vault, owner, doc, 20)

      const subscribers: { c: CoreConnection; cursor: number }[] = []
      let pushed = 0
      const total = 300
      while (pushed < total) {
        const burst = 1 + Math.floor(random() * 3)
        for (let i = 0; i < burst && pushed < total; i++, pushed++) writer.send({ type: 'push', envelope: vault.envelope(laptop, doc, `w${pushed}`).bytes })
        if (random() < 0.06 && subscribers.length < 8) {
          const c = await connectToCore(core, owner, vault.vaultId)
          const cursor = Math.floor(random() * (20 + pushed))
          c.send({ type: 'subscribe', docId: doc, cursor })
          subscribers.push({ c, cursor })
        }
        await sleep(Math.floor(random() * 3))
      }
      await writer.waitFor('ack', (m) => m.seq === total)
      const head = 20 + total
      const stored = await storedSeqs(inner, vault.vaultId, doc)
      for (const { c, cursor } of subscribers) {
        await waitDelivered(c, doc, head, 10_000)
        await c.waitFor('caughtUp', undefined, 10_000)
        // Each exactly once (early ones resolved by their bytes); those sent with a serverSeq in order.
        const seqs = receivedSeqs(c.received, doc, stored, cursor)
        expect([...seqs].sort((a, b) => a - b), `seed ${seed}, cursor ${cursor}`).toEqual(range(cursor + 1, head))
        const numbered = seqsOf(c, doc).filter((q) => q > 0)
        expect(numbered, `seed ${seed}, cursor ${cursor}`).toEqual([...numbered].sort((a, b) => a - b))
        expect(c.received.filter((m) => m.type === 'caughtUp')).toHaveLength(1)
      }
      expect(subscribers.length, `seed ${seed}`).toBeGreaterThan(0)
      await core.shutdown()
    }
  })

  it('[invariant] a batch visible in storage before its fan-out is delivered once', async () => {
    const inner = createMemoryRelayStorage()
    let hold: Promise<void> | undefined
    const storage: RelayStorage = {
      ...inner,
      async appendEnvelopes(batch) {
        const seqs = await inner.appendEnvelopes(batch)
        if (hold) await hold
        return seqs
      },
    }
    const core = createRelayCore({ storage })
    const { vault, owner, conn } = await registerVault(core)
    const doc = testDocId()
    await pushAll(conn, vault, owner, doc, 3)
    let release = () => {}
    hold = new Promise((r) => {
      release = r
    })
    conn.send({ type: 'push', envelope: vault.envelope(owner, doc, 'four').bytes })
    await sleep(10)
    const reader = await connectToCore(core, owner, vault.vaultId)
    reader.send({ type: 'subscribe', docId: doc, cursor: 0 })
    expect(await reader.waitFor('caughtUp')).toMatchObject({ head: 4 })
    hold = undefined
    release()
    await conn.waitFor('ack', (m) => m.seq === 4)
    conn.send({ type: 'push', envelope: vault.envelope(owner, doc, 'five').bytes })
    await waitDelivered(reader, doc, 5)
    expect(receivedSeqs(reader.received, doc, await storedSeqs(inner, vault.vaultId, doc))).toEqual([1, 2, 3, 4, 5])
  })

  it('[invariant] a batch fanned out while a catch-up read is in flight is not lost', async () => {
    for (const slow of ['readEnvelopes', 'headSeq'] as const) {
      const inner = createMemoryRelayStorage()
      let hold: Promise<void> | undefined
      let reads = 0
      const storage: RelayStorage = {
        ...inner,
        async [slow](...args: [Uint8Array, Uint8Array, number, number, number]) {
          const result = await (inner[slow] as (...a: typeof args) => Promise<unknown>)(...args)
          reads++
          if (hold) await hold
          return result
        },
      } as RelayStorage
      const core = createRelayCore({ storage })
      const { vault, owner, conn } = await registerVault(core)
      const doc = testDocId()
      let release = () => {}
      hold = new Promise((r) => {
        release = r
      })
      const reader = await connectToCore(core, owner, vault.vaultId)
      reader.send({ type: 'subscribe', docId: doc, cursor: 0 })
      while (reads === 0) await sleep(1)
      // The read saw an empty doc; a push is stored and fanned out before the result arrives.
      conn.send({ type: 'push', envelope: vault.envelope(owner, doc, 'one').bytes })
      await conn.waitFor('ack')
      hold = undefined
      release()
      expect(await reader.waitFor('caughtUp'), slow).toMatchObject({ head: 1 })
      expect(seqsOf(reader, doc), slow).toEqual([1])
    }
  })

  it('pauses catch-up while the connection’s send buffer is above the high-water mark', async () => {
    const core = createRelayCore({ storage: createMemoryRelayStorage(), limits: { pageItems: 2, catchUpHighWaterBytes: 1000 } })
    const { vault, owner, conn } = await registerVault(core)
    const doc = testDocId()
    await pushAll(conn, vault, owner, doc, 6)
    const reader = await connectToCore(core, owner, vault.vaultId)
    reader.setBuffered(5000)
    reader.send({ type: 'subscribe', docId: doc, cursor: 0 })
    await sleep(60)
    expect(seqsOf(reader, doc)).toEqual([1, 2])
    reader.setBuffered(0)
    await reader.waitFor('caughtUp')
    expect(seqsOf(reader, doc)).toEqual(range(1, 6))
  })

  it('closes a live subscriber that cannot keep up (slow consumer)', async () => {
    const core = createRelayCore({ storage: createMemoryRelayStorage(), limits: { maxBufferedBytes: 10_000 } })
    const { vault, owner, conn, doc, reader } = await withLiveReader(core)
    reader.setBuffered(20_000)
    conn.send({ type: 'push', envelope: vault.envelope(owner, doc, 'x').bytes })
    expect(await reader.waitClosed()).toMatchObject({ code: CloseCode.rateLimited })
  })

  it('reports the relay head in caughtUp even when the cursor is ahead of it (rollback is visible)', async () => {
    const core = createRelayCore({ storage: createMemoryRelayStorage() })
    const { vault, owner, conn } = await registerVault(core)
    const doc = testDocId()
    await pushAll(conn, vault, owner, doc, 3)
    conn.send({ type: 'subscribe', docId: doc, cursor: 50 })
    expect(await conn.waitFor('caughtUp')).toMatchObject({ head: 3 })
  })

  it('fetch sends the stored envelopes from ≤ serverSeq ≤ to', async () => {
    const core = createRelayCore({ storage: createMemoryRelayStorage(), limits: { pageItems: 2 } })
    const { vault, owner, conn } = await registerVault(core)
    const doc = testDocId()
    await pushAll(conn, vault, owner, doc, 9)
    conn.send({ type: 'fetch', docId: doc, from: 3, to: 7 })
    await conn.waitFor('envelopes', (m) => m.items.some((i) => i.serverSeq === 7))
    await sleep(20)
    expect(seqsOf(conn, doc)).toEqual(range(3, 7))
  })

  it('coalesces what one turn produces into one frame per connection', async () => {
    const core = createRelayCore({ storage: createMemoryRelayStorage() })
    const { vault, owner, conn, doc, reader } = await withLiveReader(core)
    await sleep(5)
    const before = reader.frames()
    for (let i = 0; i < 30; i++) conn.send({ type: 'push', envelope: vault.envelope(owner, doc, `e${i}`).bytes })
    await waitDelivered(reader, doc, 30)
    // The 30 envelopes in one frame (sent early), the stored marker in one more.
    expect(reader.frames() - before).toBe(2)
    expect(seqsOf(reader, doc)).toHaveLength(30)
  })
})
