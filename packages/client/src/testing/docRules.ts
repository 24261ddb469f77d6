import { expect, it } from 'vitest'
import type { LocalEnvelope } from '../localStore.js'
import { envelopeView, hexOf, outboxView, testBytes } from './bytes.js'
import { type LocalStoreTestSetup, snapshot, withStore } from './harness.js'

type Setup = () => Promise<LocalStoreTestSetup>

const DOC = '6d696e6473796e632d646f632d30303031'
const ME = 'aa01'
const PEER = 'bb02'
const OTHER = 'cc03'

const own = (seq: number, seed = seq) => ({ author: ME, seq, envelope: testBytes(1000 + seed, 64 + seq) })
const received = (author: string, seq: number, serverSeq: number | null, seed = seq): LocalEnvelope => ({
  author,
  seq,
  serverSeq,
  envelope: testBytes(2000 + seed, 50 + seq),
})
const logged = (item: { author: string; seq: number; envelope: Uint8Array }, serverSeq: number | null = null) =>
  envelopeView({ ...item, serverSeq })

/** ST3 (addLocal, outbox), ST4 (acknowledge, crash), ST5 (addReceived, cursor), ST6 (order, docs). */
export function docRules(setup: Setup): void {
  it('[ST3] addLocal puts the envelope in both the doc log and the outbox', () =>
    withStore(setup, async ({ store }) => {
      const item = own(1)
      await store.addLocal(DOC, item)
      expect((await store.listEnvelopes(DOC)).map(envelopeView)).toEqual([logged(item)])
      expect((await store.listOutbox(DOC)).map(outboxView)).toEqual([{ seq: 1, envelope: hexOf(item.envelope) }])
    }))

  it('[ST3] listOutbox is by seq (numerically), whatever the order of addLocal', () =>
    withStore(setup, async ({ store }) => {
      const items = [own(10), own(9), own(100), own(2)]
      for (const item of items) await store.addLocal(DOC, item)
      expect((await store.listOutbox(DOC)).map((e) => e.seq)).toEqual([2, 9, 10, 100])
      expect((await store.listEnvelopes(DOC)).map((e) => e.seq)).toEqual([10, 9, 100, 2])
    }))

  it('[ST3] local envelopes are copies', () =>
    withStore(setup, async ({ store }) => {
      const backing = testBytes(3000, 200)
      await store.addLocal(DOC, { author: ME, seq: 1, envelope: backing.subarray(50, 150) })
      backing.fill(0)
      for (const e of await store.listEnvelopes(DOC)) e.envelope.fill(1)
      for (const e of await store.listOutbox(DOC)) e.envelope.fill(2)
      const want = hexOf(testBytes(3000, 200).slice(50, 150))
      expect((await store.listEnvelopes(DOC)).map((e) => hexOf(e.envelope))).toEqual([want])
      expect((await store.listOutbox(DOC)).map((e) => hexOf(e.envelope))).toEqual([want])
    }))

  it('[ST4] acknowledge removes the entry and records serverSeq on the logged envelope', () =>
    withStore(setup, async ({ store }) => {
      const [e1, e2, e3] = [own(1), own(2), own(3)]
      for (const e of [e1, e2, e3]) await store.addLocal(DOC, e)
      await store.acknowledge(DOC, 2, 41)
      expect((await store.listOutbox(DOC)).map((e) => e.seq)).toEqual([1, 3])
      expect((await store.listEnvelopes(DOC)).map(envelopeView)).toEqual([logged(e1), logged(e2, 41), logged(e3)])
    }))

  it("[ST4] acknowledge marks only the own author's envelope when two authors share a seq", () =>
    withStore(setup, async ({ store }) => {
      const peer = received(PEER, 1, 7)
      const other = received(OTHER, 1, null)
      const mine = own(1)
      await store.addReceived(DOC, [peer], 7)
      await store.addLocal(DOC, mine)
      await store.addReceived(DOC, [other], 7)
      await store.acknowledge(DOC, 1, 8)
      expect((await store.listEnvelopes(DOC)).map(envelopeView)).toEqual([envelopeView(peer), logged(mine, 8), envelopeView(other)])
      expect(await store.listOutbox(DOC)).toEqual([])
    }))

  it('[ST4] acknowledging a seq that is not in the outbox changes nothing', () =>
    withStore(setup, async ({ store }) => {
      const e1 = own(1)
      await store.addLocal(DOC, e1)
      await store.acknowledge(DOC, 1, 5)
      await store.acknowledge(DOC, 1, 6) // a duplicate acknowledgement
      await store.acknowledge(DOC, 99, 7)
      await store.acknowledge('0000', 1, 8)
      expect((await store.listEnvelopes(DOC)).map(envelopeView)).toEqual([logged(e1, 5)])
      expect(await store.listEnvelopes('0000')).toEqual([])
    }))

  it('[ST4] an outbox entry survives a crash (reopen without close) until acknowledged', (t) =>
    withStore(setup, async (h) => {
      if (!h.canReopen) t.skip('the adapter gave no reopen()')
      const [e1, e2, e3] = [own(1), own(2), own(3)]
      for (const e of [e1, e2, e3]) await h.store.addLocal(DOC, e)
      await h.store.acknowledge(DOC, 1, 11)
      const after = await h.reopen()
      expect((await after.listOutbox(DOC)).map(outboxView)).toEqual([e2, e3].map((e) => ({ seq: e.seq, envelope: hexOf(e.envelope) })))
      expect((await after.listEnvelopes(DOC)).map(envelopeView)).toEqual([logged(e1, 11), logged(e2), logged(e3)])
      await after.acknowledge(DOC, 2, 12)
      const again = await h.reopen()
      expect((await again.listOutbox(DOC)).map((e) => e.seq)).toEqual([3])
      expect((await again.listEnvelopes(DOC)).map(envelopeView)).toEqual([logged(e1, 11), logged(e2, 12), logged(e3)])
    }))

  it('[ST12] rewriteOutbox replaces unacknowledged own envelopes in the log and the outbox, and nothing else', () =>
    withStore(setup, async ({ store }) => {
      const [a, b, c] = [own(1), own(2), own(3)]
      for (const item of [a, b, c]) await store.addLocal(DOC, item)
      await store.addReceived(DOC, [received(PEER, 2, 7)], 7)
      await store.acknowledge(DOC, 1, 5)
      const b2 = { ...b, envelope: testBytes(3002, 90) }
      const c2 = { ...c, envelope: testBytes(3003, 91) }
      const a2 = { ...a, envelope: testBytes(3001, 92) }
      await store.rewriteOutbox(DOC, [a2, b2, c2].map((x) => ({ seq: x.seq, envelope: x.envelope })))
      expect((await store.listOutbox(DOC)).map(outboxView)).toEqual([b2, c2].map((x) => ({ seq: x.seq, envelope: hexOf(x.envelope) })))
      // The acknowledged envelope and the peer's envelope with the same seq are untouched.
      expect((await store.listEnvelopes(DOC)).map(envelopeView)).toEqual([logged(a, 5), logged(b2), logged(c2), envelopeView(received(PEER, 2, 7))])
    }))

  it('[ST5] addReceived stores the items in order and moves the cursor', () =>
    withStore(setup, async ({ store }) => {
      expect(await store.getCursor(DOC)).toBe(0)
      const items = [received(PEER, 1, 5), received(OTHER, 1, 6), received(PEER, 2, 9)]
      await store.addReceived(DOC, items, 9)
      expect((await store.listEnvelopes(DOC)).map(envelopeView)).toEqual(items.map(envelopeView))
      expect(await store.getCursor(DOC)).toBe(9)
      expect(await store.listOutbox(DOC)).toEqual([])
      await store.addReceived(DOC, [], 12)
      expect(await store.getCursor(DOC)).toBe(12)
    }))

  it('[ST5] the cursor never moves back, and the items are stored anyway', () =>
    withStore(setup, async ({ store }) => {
      await store.addReceived(DOC, [], 10)
      const late = received(PEER, 1, 4)
      await store.addReceived(DOC, [late], 4)
      expect(await store.getCursor(DOC)).toBe(10)
      expect((await store.listEnvelopes(DOC)).map(envelopeView)).toEqual([envelopeView(late)])
      await store.addReceived(DOC, [], 10)
      await store.addReceived(DOC, [], 0)
      expect(await store.getCursor(DOC)).toBe(10)
      await store.addReceived(DOC, [], 11)
      expect(await store.getCursor(DOC)).toBe(11)
    }))

  it('[ST5] received envelopes are copies', () =>
    withStore(setup, async ({ store }) => {
      const item = received(PEER, 1, 3)
      const want = envelopeView(item)
      await store.addReceived(DOC, [item], 3)
      item.envelope.fill(0)
      item.serverSeq = 99
      for (const e of await store.listEnvelopes(DOC)) {
        e.envelope.fill(1)
        e.serverSeq = 98
      }
      expect((await store.listEnvelopes(DOC)).map(envelopeView)).toEqual([want])
    }))

  it('[ST6] listEnvelopes keeps insertion order across addLocal and addReceived', () =>
    withStore(setup, async ({ store }) => {
      const [m1, m2] = [own(1), own(2)]
      const [p1, p2, o1] = [received(PEER, 1, 1), received(PEER, 2, 3), received(OTHER, 1, 2)]
      await store.addLocal(DOC, m1)
      await store.addReceived(DOC, [p1, p2], 3)
      await store.addLocal(DOC, m2)
      await store.addReceived(DOC, [o1], 3)
      await store.acknowledge(DOC, 1, 4)
      expect((await store.listEnvelopes(DOC)).map(envelopeView)).toEqual([
        logged(m1, 4),
        envelopeView(p1),
        envelopeView(p2),
        logged(m2),
        envelopeView(o1),
      ])
    }))

  it('[ST6] docs are independent', () =>
    withStore(setup, async ({ store }) => {
      const [a, b] = ['aa', 'aabb'] // one a prefix of the other
      await store.addLocal(a, own(1, 1))
      await store.addLocal(b, own(1, 2))
      await store.addLocal(b, own(2, 3))
      await store.addReceived(a, [received(PEER, 1, 5)], 5)
      await store.acknowledge(b, 1, 6)
      expect(await snapshot(store, [], [a, b])).toEqual({
        meta: {},
        ops: [],
        docs: {
          [a]: {
            envelopes: [logged(own(1, 1)), envelopeView(received(PEER, 1, 5))],
            outbox: [outboxView(own(1, 1))],
            cursor: 5,
          },
          [b]: { envelopes: [logged(own(1, 2), 6), logged(own(2, 3))], outbox: [outboxView(own(2, 3))], cursor: 0 },
        },
      })
    }))

  it('[ST6] a doc never written is empty', () =>
    withStore(setup, async ({ store }) => {
      await store.addLocal(DOC, own(1))
      expect(await store.listEnvelopes('ffff')).toEqual([])
      expect(await store.listOutbox('ffff')).toEqual([])
      expect(await store.getCursor('ffff')).toBe(0)
    }))
}
