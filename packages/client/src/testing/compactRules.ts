import { expect, it } from 'vitest'
import type { LocalEnvelope, LocalStore } from '../localStore.js'
import { envelopeView, outboxView, testBytes } from './bytes.js'
import { type LocalStoreTestSetup, snapshot, withStore } from './harness.js'

type Setup = () => Promise<LocalStoreTestSetup>

const DOC = '636f6d706163742d646f63'
const ME = 'aa01'
const PEER = 'bb02'
const OTHER = 'cc03'
const STRANGER = 'dd04'

const own = (seq: number) => ({ author: ME, seq, envelope: testBytes(5000 + seq, 40 + seq) })
const received = (author: string, seq: number, serverSeq: number): LocalEnvelope => ({
  author,
  seq,
  serverSeq,
  envelope: testBytes(6000 + serverSeq, 30 + seq),
})
const listed = async (store: LocalStore, doc = DOC) => (await store.listEnvelopes(doc)).map(envelopeView)

/** PEER's snapshot, received last; it covers PEER up to itself, ME up to 3 and OTHER up to 2. */
const SNAPSHOT = { author: PEER, seq: 5 }
const COVERS = [
  { author: PEER, seq: 5 },
  { author: ME, seq: 3 },
  { author: OTHER, seq: 2 },
]

/**
 * A log with authors interleaved: own envelopes 1–2 acknowledged, 3–4 still
 * in the outbox, a STRANGER the snapshot does not cover, and PEER's snapshot.
 * Returns what compacting with COVERS must leave, in order.
 */
async function fillLog(store: LocalStore): Promise<ReturnType<typeof envelopeView>[]> {
  await store.addReceived(DOC, [received(PEER, 1, 1), received(OTHER, 1, 2)], 2)
  await store.addLocal(DOC, own(1))
  await store.addReceived(DOC, [received(PEER, 2, 3), received(PEER, 3, 4)], 4)
  await store.addLocal(DOC, own(2))
  await store.addLocal(DOC, own(3))
  await store.acknowledge(DOC, 1, 5)
  await store.acknowledge(DOC, 2, 6)
  const late = [received(OTHER, 2, 7), received(STRANGER, 1, 8), received(PEER, 4, 9), received(OTHER, 3, 10), received(PEER, 5, 11)]
  await store.addReceived(DOC, late, 11)
  await store.addLocal(DOC, own(4))
  return [
    envelopeView({ ...own(3), serverSeq: null }), // covered, but still in the outbox
    envelopeView(received(STRANGER, 1, 8)), // an author the snapshot does not cover
    envelopeView(received(OTHER, 3, 10)), // above OTHER's covered seq
    envelopeView(received(PEER, 5, 11)), // the snapshot itself
    envelopeView({ ...own(4), serverSeq: null }), // above ME's covered seq
  ]
}

/** ST13 (compact). */
export function compactRules(setup: Setup): void {
  it('[ST13] compact deletes exactly what the snapshot covers, keeps the rest in order, and returns the count', () =>
    withStore(setup, async ({ store }) => {
      const kept = await fillLog(store)
      const outbox = (await store.listOutbox(DOC)).map(outboxView)
      // PEER 1–4, OTHER 1–2 and the acknowledged own 1–2: PEER 3 goes though own 3, with the same seq, stays.
      expect(await store.compact(DOC, SNAPSHOT, COVERS)).toBe(8)
      expect(await listed(store)).toEqual(kept)
      expect((await store.listOutbox(DOC)).map(outboxView)).toEqual(outbox)
      expect(await store.getCursor(DOC)).toBe(11)
    }))

  it('[ST13] an author listed twice in covers counts with its highest seq', () =>
    withStore(setup, async ({ store }) => {
      const kept = await fillLog(store)
      const twice = [{ author: OTHER, seq: 1 }, ...COVERS, { author: PEER, seq: 2 }]
      expect(await store.compact(DOC, SNAPSHOT, twice)).toBe(8)
      expect(await listed(store)).toEqual(kept)
    }))

  it('[ST13] an own envelope still in the outbox is kept though covered, and goes once acknowledged', () =>
    withStore(setup, async ({ store }) => {
      for (const seq of [1, 2, 3]) await store.addLocal(DOC, own(seq))
      const all = [1, 2, 3].map((seq) => envelopeView({ ...own(seq), serverSeq: null }))
      expect(await store.compact(DOC, SNAPSHOT, [{ author: ME, seq: 3 }])).toBe(0)
      expect(await listed(store)).toEqual(all)
      expect((await store.listOutbox(DOC)).map((e) => e.seq)).toEqual([1, 2, 3])
      // The kept entries still behave as outbox entries: acknowledged, rewritten, then compacted.
      await store.acknowledge(DOC, 1, 21)
      const rewritten = { seq: 2, envelope: testBytes(5100, 50) }
      await store.rewriteOutbox(DOC, [rewritten])
      expect(await store.compact(DOC, SNAPSHOT, [{ author: ME, seq: 3 }])).toBe(1)
      expect(await listed(store)).toEqual([
        envelopeView({ author: ME, ...rewritten, serverSeq: null }),
        envelopeView({ ...own(3), serverSeq: null }),
      ])
      expect((await store.listOutbox(DOC)).map(outboxView)).toEqual([outboxView(rewritten), outboxView(own(3))])
    }))

  it('[ST13] compacting an unknown doc, or covering nothing, is a no-op returning 0; other docs are untouched', () =>
    withStore(setup, async ({ store }) => {
      const [a, b] = ['aa', 'aabb'] // one a prefix of the other
      await store.addReceived(a, [received(PEER, 1, 1), received(PEER, 2, 2)], 2)
      await store.addReceived(b, [received(PEER, 1, 3), received(PEER, 2, 4)], 4)
      const before = await snapshot(store, [], [a, b, 'ffff'])
      expect(await store.compact('ffff', { author: PEER, seq: 9 }, [{ author: PEER, seq: 9 }])).toBe(0)
      expect(await store.compact(a, { author: PEER, seq: 2 }, [])).toBe(0)
      expect(await store.compact(a, { author: PEER, seq: 2 }, [{ author: OTHER, seq: 9 }])).toBe(0)
      expect(await snapshot(store, [], [a, b, 'ffff'])).toEqual(before)
      expect(await store.compact(a, { author: PEER, seq: 2 }, [{ author: PEER, seq: 2 }])).toBe(1)
      expect(await listed(store, a)).toEqual([envelopeView(received(PEER, 2, 2))])
      expect(await listed(store, b)).toEqual([received(PEER, 1, 3), received(PEER, 2, 4)].map(envelopeView))
      expect(await store.getCursor(a)).toBe(2)
    }))

  it('[ST13] compacting twice is harmless, and later envelopes are listed after the kept ones', () =>
    withStore(setup, async ({ store }) => {
      const kept = await fillLog(store)
      expect(await store.compact(DOC, SNAPSHOT, COVERS)).toBe(8)
      expect(await store.compact(DOC, SNAPSHOT, COVERS)).toBe(0)
      expect(await listed(store)).toEqual(kept)
      await store.addReceived(DOC, [received(PEER, 6, 12)], 12)
      await store.addLocal(DOC, own(5))
      expect(await listed(store)).toEqual([...kept, envelopeView(received(PEER, 6, 12)), envelopeView({ ...own(5), serverSeq: null })])
    }))

  it('[ST13] readers see a compaction whole or not at all, and overlapping writes all take effect', () =>
    withStore(setup, async ({ store }) => {
      const kept = await fillLog(store)
      const before = await listed(store)
      const [early, count, late] = await Promise.all([listed(store), store.compact(DOC, SNAPSHOT, COVERS), listed(store)])
      expect(count).toBe(8)
      for (const seen of [early, late]) expect([before, kept]).toContainEqual(seen)
      // Writes made without waiting for a compaction are neither lost nor compacted.
      const more = received(PEER, 6, 12)
      await Promise.all([store.addReceived(DOC, [more], 12), store.compact(DOC, SNAPSHOT, COVERS), store.addLocal(DOC, own(5))])
      const now = await listed(store)
      expect(now.slice(0, kept.length)).toEqual(kept)
      // The two writes raced, so either may come first.
      const byAuthor = (a: { author: string }, b: { author: string }) => a.author.localeCompare(b.author)
      expect(now.slice(kept.length).sort(byAuthor)).toEqual([envelopeView({ ...own(5), serverSeq: null }), envelopeView(more)])
    }))

  it('[ST13] a compaction survives a crash (reopen without close)', (t) =>
    withStore(setup, async (h) => {
      if (!h.canReopen) t.skip('the adapter gave no reopen()')
      const kept = await fillLog(h.store)
      expect(await h.store.compact(DOC, SNAPSHOT, COVERS)).toBe(8)
      const compacted = await snapshot(h.store, [], [DOC])
      const after = await h.reopen()
      expect(await snapshot(after, [], [DOC])).toEqual(compacted)
      expect(await listed(after)).toEqual(kept)
      expect(await after.compact(DOC, SNAPSHOT, COVERS)).toBe(0)
    }))

  it('[ST13] compacts a 10,000-envelope log in one call', () =>
    withStore(setup, async ({ store }) => {
      // Ten authors take turns; each is covered up to half of its seqs.
      const authors = Array.from({ length: 10 }, (_, i) => `e${i}`)
      const items = Array.from({ length: 10_000 }, (_, i): LocalEnvelope => {
        const author = authors[i % 10] as string
        return { author, seq: Math.floor(i / 10) + 1, serverSeq: i + 1, envelope: testBytes(70_000 + i, 20) }
      })
      await store.addReceived(DOC, items, 10_000)
      const covers = authors.map((author) => ({ author, seq: 500 }))
      expect(await store.compact(DOC, { author: 'e0', seq: 1000 }, covers)).toBe(5000)
      expect(await listed(store)).toEqual(items.filter((e) => e.seq > 500).map(envelopeView))
    }))
}
