// The mindsync relay as its daemon runs it: SQLite file (WAL, synchronous=FULL, writes on the event loop while commits are quick), group commit, frame coalescing.
import { join } from 'node:path'
import { fromHex } from '@mindsync/crypto'
import { createMemoryRelayStorage, createRelay, createSqliteRelayStorage } from '@mindsync/relay'

export async function start({ dir }) {
  // The daemon's default writer ('auto'); if the writes move to a thread during a run, the output says so.
  // BENCH_MINDSYNC_STORAGE=memory, BENCH_MINDSYNC_WRITER=thread|inline, BENCH_MINDSYNC_SYNCHRONOUS=normal,
  // BENCH_MINDSYNC_COMMIT_DELAY=ms: the relay as an operator could configure it, to see what a figure owes
  // to the disk (bench README).
  const env = process.env
  const storage =
    env.BENCH_MINDSYNC_STORAGE === 'memory'
      ? createMemoryRelayStorage()
      : createSqliteRelayStorage(join(dir, 'relay.db'), {
          ...(env.BENCH_MINDSYNC_WRITER ? { writer: env.BENCH_MINDSYNC_WRITER } : {}),
          ...(env.BENCH_MINDSYNC_SYNCHRONOUS ? { synchronous: env.BENCH_MINDSYNC_SYNCHRONOUS } : {}),
          log: (e) => console.error(`[relay] ${e.event}: ${e.message}`),
        })
  const relay = createRelay({ storage, host: '127.0.0.1', port: 0, ...(env.BENCH_MINDSYNC_COMMIT_DELAY ? { commitDelayMs: Number(env.BENCH_MINDSYNC_COMMIT_DELAY) } : {}) })
  const { url, port } = await relay.listen()
  return {
    url,
    port,
    stats: () => relay.core.stats(),
    calls: {
      /** How many envelopes the SQLite file holds for a doc (server seqs run from 1 without gaps). */
      headSeq: ({ vaultId, docId }) => storage.headSeq(fromHex(vaultId), fromHex(docId)),
    },
    close: () => relay.close(),
  }
}
