import { EnvelopeKind, decodeEnvelope, envelopeHash } from '@mindsync/protocol'
import type { Envelope } from '@mindsync/protocol'
import { describe, expect, it } from 'vitest'
import { createRelayCore } from './core.js'
import { createMemoryRelayStorage } from './memoryStorage.js'
import { appendOps, connectToCore, createTestDevice, registerVault, testDocId } from './testing/index.js'
import type { CoreConnection } from './testing/index.js'

async function setup() {
  const storage = createMemoryRelayStorage()
  const core = createRelayCore({ storage })
  const { vault, owner, conn } = await registerVault(core)
  const laptop = createTestDevice()
  await appendOps(conn, vault.addDevice(owner, laptop))
  const lap = await connectToCore(core, laptop, vault.vaultId)
  return { storage, core, vault, owner, laptop, conn, lap, doc: testDocId() }
}

/** Pushes and resolves with the relay's answer to it: the ack's serverSeq or the reject's code. */
async function answerTo(c: CoreConnection, env: Envelope): Promise<number | string> {
  const before = c.received.length
  c.send({ type: 'push', envelope: env.bytes })
  const deadline = Date.now() + 5_000
  for (;;) {
    const answer = c.received.slice(before).find((m) => (m.type === 'ack' || m.type === 'reject') && m.seq === env.header.seq)
    if (answer?.type === 'ack') return answer.serverSeq
    if (answer?.type === 'reject') return answer.code
    if (Date.now() > deadline) throw new Error(`no answer to the push of seq ${env.header.seq}`)
    await new Promise((r) => setTimeout(r, 1))
  }
}

describe('chains after pruning', () => {
  it('a resend of a pruned envelope is acknowledged with the base serverSeq; a different one is refused where the relay knows the hash', async () => {
    const { storage, vault, owner, laptop, conn, lap, doc } = await setup()
    const ups = [vault.envelope(owner, doc, 'o1'), vault.envelope(laptop, doc, 'l1'), vault.envelope(owner, doc, 'o2'), vault.envelope(owner, doc, 'o3')]
    for (const [i, e] of ups.entries()) expect(await answerTo(i === 1 ? lap : conn, e)).toBe(i + 1)
    const snap = vault.snapshot(owner, doc, 'all', ups)
    expect(await answerTo(conn, snap)).toBe(5)
    expect(await storage.docUsage(vault.vaultId, doc)).toMatchObject({ envelopes: 1 })

    // The same bytes again: held through the base.
    expect(await answerTo(conn, ups[2] as Envelope)).toBe(5)
    expect(await answerTo(lap, ups[1] as Envelope)).toBe(5)
    // Another envelope under the laptop's pruned head seq: the relay kept that hash.
    expect(await answerTo(lap, vault.envelope(laptop, doc, 'l1 twin', { seq: 1, detached: true }))).toBe('E_EQUIVOCATION')
    // Under the owner's covered seq 3: the base records its hash.
    expect(await answerTo(conn, vault.envelope(owner, doc, 'o3 twin', { seq: 3, prevHash: envelopeHash(ups[2] as Envelope), detached: true }))).toBe('E_EQUIVOCATION')
    // Under seq 2, whose hash nothing kept: acknowledged, and not stored.
    expect(await answerTo(conn, vault.envelope(owner, doc, 'o2 twin', { seq: 2, detached: true }))).toBe(5)
    expect(await storage.headSeq(vault.vaultId, doc)).toBe(5)
    // A gap is still a gap.
    expect(await answerTo(lap, vault.envelope(laptop, doc, 'l3', { seq: 3, detached: true }))).toBe('E_CHAIN')
    // And the chains go on.
    expect(await answerTo(lap, vault.envelope(laptop, doc, 'l2'))).toBe(6)
    expect(await answerTo(conn, vault.envelope(owner, doc, 'o5'))).toBe(7)
  })

  it('chain heads are the relay’s own: a snapshot claiming more of an author than was stored does not move that author’s chain', async () => {
    const { vault, owner, laptop, conn, lap, doc } = await setup()
    const l1 = vault.envelope(laptop, doc, 'l1')
    const l2 = vault.envelope(laptop, doc, 'l2')
    expect(await answerTo(lap, l1)).toBe(1)
    expect(await answerTo(lap, l2)).toBe(2)
    const claim = { deviceId: laptop.deviceId, seq: 9, hash: new Uint8Array(32).fill(9) }
    expect(await answerTo(conn, vault.envelope(owner, doc, 'overclaiming', { kind: EnvelopeKind.snapshot, covers: [claim] }))).toBe(3)
    expect(await answerTo(lap, vault.envelope(laptop, doc, 'l2 twin', { seq: 2, detached: true }))).toBe('E_EQUIVOCATION')
    expect(await answerTo(lap, vault.envelope(laptop, doc, 'l3'))).toBe(4)
  })
})

describe('repair fetches and catch-up after pruning', () => {
  it('fetchSeqs answers pruned seqs with the base snapshot, once, in serverSeq order', async () => {
    const { vault, owner, laptop, conn, lap, doc } = await setup()
    const o1 = vault.envelope(owner, doc, 'o1')
    const l1 = vault.envelope(laptop, doc, 'l1')
    const l2 = vault.envelope(laptop, doc, 'l2')
    for (const [c, e] of [[conn, o1], [lap, l1], [lap, l2]] as const) await answerTo(c, e)
    const snap = vault.snapshot(owner, doc, 'o1 l1', [o1, l1]) // owner seq 2, serverSeq 4; l2 is not covered
    expect(await answerTo(conn, snap)).toBe(4)
    const l3 = vault.envelope(laptop, doc, 'l3')
    expect(await answerTo(lap, l3)).toBe(5)

    const fetchSeqs = async (deviceId: Uint8Array, from: number, to: number): Promise<{ items: [number, number, number][]; count: number }> => {
      const before = conn.received.length
      conn.send({ type: 'fetchSeqs', docId: doc, deviceId, from, to })
      const done = await conn.waitFor('fetched', (m) => conn.received.indexOf(m) >= before && m.from === from && m.to === to)
      const items = conn.received
        .slice(before)
        .flatMap((m) => (m.type === 'envelopes' ? m.items : []))
        .map((it): [number, number, number] => {
          const h = decodeEnvelope(it.envelope).header
          return [it.serverSeq, h.kind, h.seq]
        })
      return { items, count: done.count }
    }
    // Laptop 1 is pruned and covered; 2 and 3 are stored.
    expect(await fetchSeqs(laptop.deviceId, 1, 3)).toEqual({
      items: [
        [3, EnvelopeKind.update, 2],
        [4, EnvelopeKind.snapshot, 2],
        [5, EnvelopeKind.update, 3],
      ],
      count: 3,
    })
    // The owner's 1 is pruned; its 2 is the base itself: sent once.
    expect(await fetchSeqs(owner.deviceId, 1, 4)).toEqual({ items: [[4, EnvelopeKind.snapshot, 2]], count: 1 })
    // Seqs the base does not cover get nothing.
    expect(await fetchSeqs(laptop.deviceId, 4, 9)).toEqual({ items: [], count: 0 })
  })

  it('catch-up serves every stored envelope after the cursor: the base and the tail', async () => {
    const { core, vault, owner, laptop, conn, lap, doc } = await setup()
    const ups: Envelope[] = []
    for (let i = 0; i < 6; i++) {
      const e = i % 2 ? vault.envelope(laptop, doc, `l${i}`) : vault.envelope(owner, doc, `o${i}`)
      ups.push(e)
      await answerTo(i % 2 ? lap : conn, e)
    }
    await answerTo(conn, vault.snapshot(owner, doc, 'first four', ups.slice(0, 4))) // 7
    await answerTo(lap, vault.envelope(laptop, doc, 'tail')) // 8
    const serverSeqsFrom = async (cursor: number): Promise<number[]> => {
      const c = await connectToCore(core, laptop, vault.vaultId)
      c.send({ type: 'subscribe', docId: doc, cursor })
      expect(await c.waitFor('caughtUp')).toMatchObject({ head: 8 })
      c.close()
      return c.received.flatMap((m) => (m.type === 'envelopes' ? m.items.map((i) => i.serverSeq) : []))
    }
    expect(await serverSeqsFrom(0)).toEqual([5, 6, 7, 8])
    expect(await serverSeqsFrom(2)).toEqual([5, 6, 7, 8])
    expect(await serverSeqsFrom(7)).toEqual([8])
  })
})
