import { expect, it } from 'vitest'
import type { LocalEnvelope, LocalStore } from '../localStore.js'
import { envelopeView, expectBytes, hexOf, testBytes } from './bytes.js'
import { type LocalStoreTestSetup, snapshot, withStore } from './harness.js'

type Setup = () => Promise<LocalStoreTestSetup>

const DOC = '0a0b'
const DOC2 = '0c0d'
const MIB = 1024 * 1024

/** Fills a store with a bit of everything; returns the meta keys and docs it used. */
async function fill(store: LocalStore): Promise<{ keys: string[]; docs: string[] }> {
  await store.setMeta('identity', testBytes(1, 128))
  await store.setMeta('settings', testBytes(2, 10))
  await store.setMeta('gone', testBytes(3, 10))
  await store.deleteMeta('gone')
  await store.putOps(0, [testBytes(4, 200), testBytes(5, 300)])
  for (const seq of [1, 2, 3]) await store.addLocal(DOC, { author: 'aa', seq, envelope: testBytes(10 + seq, 80) })
  await store.addReceived(DOC, [{ author: 'bb', seq: 1, serverSeq: 1, envelope: testBytes(20, 90) }], 1)
  await store.acknowledge(DOC, 1, 2)
  await store.addReceived(DOC2, [{ author: 'bb', seq: 1, serverSeq: 1, envelope: testBytes(30, 70) }], 4)
  await store.addLocal(DOC2, { author: 'aa', seq: 1, envelope: testBytes(31, 60) })
  return { keys: ['identity', 'settings', 'gone'], docs: [DOC, DOC2] }
}

const manyItems = (n: number): LocalEnvelope[] =>
  Array.from({ length: n }, (_, i) => ({ author: `a${i % 7}`, seq: i + 1, serverSeq: i + 1, envelope: testBytes(50_000 + i, 40 + (i % 50)) }))

/** Calls that must fail after close(), one per method of the interface. */
const everyCall = (s: LocalStore): [string, () => Promise<unknown>][] => [
  ['getMeta', () => s.getMeta('k')],
  ['setMeta', () => s.setMeta('k', new Uint8Array(1))],
  ['deleteMeta', () => s.deleteMeta('k')],
  ['listOps', () => s.listOps()],
  ['putOps', () => s.putOps(0, [new Uint8Array(1)])],
  ['addLocal', () => s.addLocal(DOC, { author: 'aa', seq: 1, envelope: new Uint8Array(1) })],
  ['addReceived', () => s.addReceived(DOC, [], 1)],
  ['listEnvelopes', () => s.listEnvelopes(DOC)],
  ['listOutbox', () => s.listOutbox(DOC)],
  ['rewriteOutbox', () => s.rewriteOutbox(DOC, [{ seq: 1, envelope: new Uint8Array(1) }])],
  ['acknowledge', () => s.acknowledge(DOC, 1, 1)],
  ['compact', () => s.compact(DOC, { author: 'aa', seq: 1 }, [{ author: 'aa', seq: 1 }])],
  ['getCursor', () => s.getCursor(DOC)],
]

/** ST7 (restart), ST8 (size), ST9 (close), ST10 (failed writes), ST11 (overlapping calls). */
export function lifecycleRules(setup: Setup): void {
  it('[ST7] reopen keeps everything', (t) =>
    withStore(setup, async (h) => {
      if (!h.canReopen) t.skip('the adapter gave no reopen()')
      const { keys, docs } = await fill(h.store)
      const before = await snapshot(h.store, keys, docs)
      await h.store.close()
      await h.reopen()
      expect(await snapshot(h.store, keys, docs)).toEqual(before)
      await h.store.close()
      await h.reopen()
      expect(await snapshot(h.store, keys, docs)).toEqual(before)
    }))

  it('[ST8] a 1 MiB envelope and a 1 MiB meta value round-trip', () =>
    withStore(setup, async (h) => {
      await h.store.addLocal(DOC, { author: 'aa', seq: 1, envelope: testBytes(7, MIB) })
      await h.store.setMeta('big', testBytes(8, MIB))
      const check = async (s: LocalStore, when: string) => {
        expectBytes((await s.listEnvelopes(DOC))[0]?.envelope, testBytes(7, MIB), `logged envelope ${when}`)
        expectBytes((await s.listOutbox(DOC))[0]?.envelope, testBytes(7, MIB), `outbox entry ${when}`)
        expectBytes(await s.getMeta('big'), testBytes(8, MIB), `meta value ${when}`)
      }
      await check(h.store, 'as written')
      if (h.canReopen) {
        await h.store.close()
        await check(await h.reopen(), 'after reopen')
      }
    }))

  it('[ST8] 10,000 items in one addReceived', () =>
    withStore(setup, async (h) => {
      const items = manyItems(10_000)
      await h.store.addReceived(DOC, items, 10_000)
      const check = async (s: LocalStore) => {
        expect(await s.getCursor(DOC)).toBe(10_000)
        expect((await s.listEnvelopes(DOC)).map(envelopeView)).toEqual(items.map(envelopeView))
      }
      await check(h.store)
      if (h.canReopen) {
        await h.store.close()
        await check(await h.reopen())
      }
    }))

  it('[ST9] after close(), using the store fails with a clear error', (t) =>
    withStore(setup, async (h) => {
      if (!h.closes) t.skip('the adapter does not claim ST9 (closes: true)')
      await h.store.setMeta('k', new Uint8Array([1]))
      await h.store.close()
      for (const [name, call] of everyCall(h.store)) {
        let pending: Promise<unknown>
        try {
          pending = call()
        } catch (e) {
          throw new Error(`${name} threw synchronously after close() instead of rejecting: ${String(e)}`)
        }
        await expect(pending, `${name} after close()`).rejects.toThrow(/closed/i)
      }
      await h.store.close() // closing twice is harmless
    }))

  it('[ST10] a value that is not bytes is rejected, and the failed write leaves nothing behind', () =>
    withStore(setup, async ({ store }) => {
      // The bad value comes after good ones, so an adapter that writes item
      // by item meets it part-way through and must undo what it did.
      const bad = undefined as unknown as Uint8Array
      const { keys, docs } = await fill(store)
      const attempts: [string, () => Promise<void>][] = [
        ['putOps', () => store.putOps(2, [testBytes(60, 10), bad])],
        ['addLocal', () => store.addLocal(DOC, { author: 'aa', seq: 4, envelope: bad })],
        ['addReceived', () => store.addReceived(DOC, [{ author: 'bb', seq: 2, serverSeq: 5, envelope: testBytes(61, 10) }, { author: 'bb', seq: 3, serverSeq: 6, envelope: bad }], 6)],
        ['setMeta', () => store.setMeta('settings', bad)],
      ]
      const before = await snapshot(store, keys, docs)
      for (const [name, attempt] of attempts) {
        await expect(attempt(), `${name} with a value that is not bytes`).rejects.toBeInstanceOf(Error)
        expect(await snapshot(store, keys, docs), `${name} left the store as it was`).toEqual(before)
      }
    }))

  it('[ST11] calls made without waiting for each other all take effect', () =>
    withStore(setup, async ({ store }) => {
      const seqs = Array.from({ length: 40 }, (_, i) => i + 1)
      await Promise.all([
        ...seqs.map((seq) => store.addLocal(DOC, { author: 'aa', seq, envelope: testBytes(70 + seq, 30) })),
        ...seqs.map((seq) => store.setMeta(`k${seq}`, testBytes(200 + seq, 5))),
        ...seqs.map((seq) => store.addReceived(DOC2, [{ author: 'bb', seq, serverSeq: seq, envelope: testBytes(300 + seq, 20) }], seq)),
        store.putOps(0, [testBytes(400, 9)]),
      ])
      expect((await store.listOutbox(DOC)).map((e) => [e.seq, hexOf(e.envelope)])).toEqual(seqs.map((seq) => [seq, hexOf(testBytes(70 + seq, 30))]))
      for (const seq of seqs) expectBytes(await store.getMeta(`k${seq}`), testBytes(200 + seq, 5), `meta k${seq}`)
      const got = (await store.listEnvelopes(DOC2)).map((e) => e.seq).sort((x, y) => x - y)
      expect(got).toEqual(seqs)
      expect(await store.getCursor(DOC2)).toBe(40)
      expect((await store.listOps()).map(hexOf)).toEqual([hexOf(testBytes(400, 9))])
    }))
}
