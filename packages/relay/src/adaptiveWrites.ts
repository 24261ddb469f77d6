import { inlineWrites } from './sqliteWriter.js'
import type { AsyncWrites } from './sqliteWriter.js'
import type { SqliteWrites } from './sqliteWrites.js'

/** When writes leave the event loop's thread (writer `'auto'`). */
export interface AdaptiveWritesOptions {
  /** The writes move when the median of the last `sample` writes took longer than this (ms). Default 4. */
  slowMedianMs?: number
  /** Default 32. */
  sample?: number
  /**
   * The writes move when together they held the event loop for more than this share of one second.
   * Default 0.5: with the rest of a relay's work on top, more than half a second of writes is a
   * load the loop cannot carry; less is cheaper inline (at 1,000 updates/s here the disk syncs
   * held it about a quarter of a second, and moving them cost 0.1 cores and doubled median latency).
   */
  maxShare?: number
  now?: () => number
  /** Hears, once, why the writes moved. */
  onMoved?: (reason: string) => void
}

export type AdaptiveWrites = AsyncWrites & {
  /** Where writes run now. */
  readonly mode: 'inline' | 'thread'
}

/**
 * Writes on the caller's thread while they are quick, and on a writer thread
 * for good once they are not. A commit handed to another thread costs two
 * thread wake-ups and a copy of the batch, which on a virtual machine cost
 * more than a commit to a fast disk (about 0.3 ms here); a disk that syncs
 * slowly would instead stop every connection while it syncs. So each inline
 * write is timed. The median of recent writes tells a slow disk (a spinning
 * one syncs in about 10 ms) from a busy CPU, which makes a few writes slow
 * now and then; the share of a second tells a load the event loop cannot
 * carry. Writes stay in order across the move: every inline write has
 * finished before the thread gets one.
 */
export function adaptiveWrites(inline: SqliteWrites, startThread: () => AsyncWrites, options: AdaptiveWritesOptions = {}): AdaptiveWrites {
  const { slowMedianMs = 4, sample = 32, maxShare = 0.5, now = () => performance.now(), onMoved } = options
  const onLoop = inlineWrites(inline)
  let thread: AsyncWrites | undefined
  const recent = new Float64Array(sample)
  let count = 0
  let windowStart = now()
  let busyMs = 0

  let stuck = false
  const move = (reason: string): void => {
    try {
      thread = startThread()
    } catch (e) {
      // No thread to be had (resource limits, say): writing inline is slow but still correct.
      stuck = true
      onMoved?.(`${reason}, but the writer thread did not start (${(e as Error).message}): writes stay on the event loop`)
      return
    }
    onMoved?.(reason)
  }

  const measure = (ms: number, at: number): void => {
    if (stuck) return
    if (at - windowStart >= 1000) {
      windowStart = at
      busyMs = 0
    }
    busyMs += ms
    recent[count++ % sample] = ms
    const median = count >= sample ? recent.slice().sort()[sample >> 1] as number : 0
    if (median > slowMedianMs) move(`the median of the last ${sample} writes held the event loop for ${median.toFixed(1)} ms`)
    else if (busyMs > maxShare * 1000) move(`writes held the event loop for ${Math.round(busyMs)} ms within one second`)
  }

  const run = (op: keyof SqliteWrites, args: unknown[]): Promise<never> => {
    if (thread) return (thread[op] as (...a: unknown[]) => Promise<never>)(...args)
    // An inline write runs to its end inside this call (inlineWrites only wraps it in a promise): time the call.
    const start = now()
    try {
      return (onLoop[op] as (...a: unknown[]) => Promise<never>)(...args)
    } finally {
      const end = now()
      measure(end - start, end)
    }
  }

  return {
    get mode() {
      return thread ? 'thread' : 'inline'
    },
    appendEnvelopes: (...args) => run('appendEnvelopes', args),
    appendOp: (...args) => run('appendOp', args),
    touchDevice: (...args) => run('touchDevice', args),
    close: async () => {
      await thread?.close()
    },
  }
}
