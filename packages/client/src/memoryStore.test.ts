import { expect, it } from 'vitest'
import { createMemoryStore } from './memoryStore.js'
import { runLocalStoreTests } from './testing/index.js'

// No reopen: memory does not outlive the store, so ST7 and the crash parts
// of ST4 and ST13 are skipped. No ST9: close() has nothing to release.
runLocalStoreTests('memory', async () => ({ store: createMemoryStore() }))

it('acknowledges and compacts a 100,000-envelope log in linear time', async () => {
  // Quadratic work here (a scan of the log per envelope) takes minutes; linear takes well under a second.
  const store = createMemoryStore()
  const n = 100_000
  const envelope = new Uint8Array(8)
  const started = performance.now()
  for (let seq = 1; seq <= n; seq++) await store.addLocal('d', { author: 'aa', seq, envelope })
  for (let seq = 1; seq <= n; seq++) await store.acknowledge('d', seq, seq)
  await store.addReceived('d', [{ author: 'bb', seq: 1, serverSeq: n + 1, envelope }], n + 1)
  expect(await store.compact('d', { author: 'bb', seq: 1 }, [{ author: 'aa', seq: n - 10 }])).toBe(n - 10)
  expect((await store.listEnvelopes('d')).map((e) => e.seq)).toEqual([n - 9, n - 8, n - 7, n - 6, n - 5, n - 4, n - 3, n - 2, n - 1, n, 1])
  expect(performance.now() - started).toBeLessThan(10_000)
})
