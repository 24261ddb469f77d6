import type { PendingPush } from './chains.js'
import type { RelayStorage } from './storage.js'

export interface GroupCommitOptions {
  storage: RelayStorage
  /** Called synchronously once a batch is durably stored; serverSeq is set on each item. Must not throw. */
  onStored(batch: PendingPush[]): void
  /** Called when storing a batch failed; nothing of it was stored. Must not throw. */
  onFailed(batch: PendingPush[], error: unknown): void
  /** Called right before a batch is written: a synchronous store blocks the thread, so send what is ready first. */
  beforeWrite?(): void
  /**
   * How long the first push of a batch waits for others to join it (0: only
   * those of the same event-loop turn). Fan-out does not wait for the commit
   * (early fan-out), only the author's ack does, so a few milliseconds here
   * cost delivery nothing and save a disk sync per push under steady load.
   */
  delayMs?: number
}

/**
 * Group commit: every push accepted during one event-loop turn is written by
 * ONE `appendEnvelopes` call (one transaction, one disk sync), and only then
 * acknowledged. One batch is written at a time; pushes arriving meanwhile
 * form the next batch, so batches grow under load instead of queueing syncs.
 */
export interface GroupCommit {
  add(item: PendingPush): void
  /** Removes queued (not yet writing) items that match; returns them. */
  dropQueued(match: (item: PendingPush) => boolean): PendingPush[]
  /** Resolves when everything added so far is stored (or failed). */
  flush(): Promise<void>
  /** Number of batches written, for tests and metrics. */
  commits(): number
}

export function createGroupCommit(options: GroupCommitOptions): GroupCommit {
  const { storage, onStored, onFailed, beforeWrite, delayMs = 0 } = options
  let queue: PendingPush[] = []
  let writing: Promise<void> | undefined
  /** Cancels the scheduled write, while one is scheduled. */
  let cancelScheduled: (() => void) | undefined
  let count = 0

  const schedule = (): void => {
    if (cancelScheduled || writing || queue.length === 0) return
    if (delayMs > 0) {
      const t = setTimeout(write, delayMs)
      cancelScheduled = () => clearTimeout(t)
    } else {
      // setImmediate runs after this turn's I/O callbacks and promise jobs:
      // everything decoded from the frames of this turn joins the batch.
      const t = setImmediate(write)
      cancelScheduled = () => clearImmediate(t)
    }
  }

  async function writeBatch(batch: PendingPush[]): Promise<void> {
    try {
      const seqs = await storage.appendEnvelopes(batch.map((i) => i.record))
      if (seqs.length !== batch.length) throw new Error(`storage returned ${seqs.length} server seqs for ${batch.length} envelopes`)
      count++
      batch.forEach((item, i) => {
        item.serverSeq = seqs[i] as number
      })
    } catch (e) {
      onFailed(batch, e)
      return
    }
    onStored(batch)
  }

  function write(): void {
    cancelScheduled = undefined
    if (writing || queue.length === 0) return
    const batch = queue
    queue = []
    beforeWrite?.()
    writing = writeBatch(batch).finally(() => {
      writing = undefined
      schedule()
    })
  }

  return {
    add(item) {
      queue.push(item)
      schedule()
    },
    dropQueued(match) {
      const dropped = queue.filter(match)
      if (dropped.length > 0) queue = queue.filter((i) => !match(i))
      return dropped
    },
    async flush() {
      while (writing || queue.length > 0) {
        if (writing) await writing
        else {
          cancelScheduled?.()
          write()
        }
      }
    },
    commits: () => count,
  }
}
