import { Worker } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import type { WriteAnswer, WriteRequest } from './sqliteWriterThread.js'
import type { SqliteWrites } from './sqliteWrites.js'

/** The relay's writes, answered asynchronously. */
export type AsyncWrites = { [K in keyof SqliteWrites]: (...args: Parameters<SqliteWrites[K]>) => Promise<ReturnType<SqliteWrites[K]>> } & {
  /** Finishes the writes already asked for, then stops. */
  close(): Promise<void>
}

/** The same writes run inline, on the caller's thread (for `:memory:` databases and `writer: 'inline'`). */
export function inlineWrites(writes: SqliteWrites): AsyncWrites {
  return {
    appendEnvelopes: async (batch) => writes.appendEnvelopes(batch),
    appendOp: async (...args) => writes.appendOp(...args),
    touchDevice: async (...args) => writes.touchDevice(...args),
    close: async () => {},
  }
}

/** Built JavaScript of the thread; under the test runner (sources in TypeScript) the build next to them. */
function threadFile(): string {
  const here = new URL(import.meta.url)
  const built = here.pathname.endsWith('.ts') ? new URL('../dist/sqliteWriterThread.js', here) : new URL('./sqliteWriterThread.js', here)
  return fileURLToPath(built)
}

/**
 * A thread that owns the relay's write connection. With `synchronous = FULL`
 * every commit waits for the disk (a millisecond usually, tens of
 * milliseconds when the disk is busy); on the event loop's thread that wait
 * would stop every connection, early fan-out included. Here it stops only
 * the writes queued behind it. Reads stay on the caller's connection: in WAL
 * mode they never wait for the writer and see each commit once it is made.
 */
export function startWriterThread(path: string, synchronous: 'full' | 'normal'): AsyncWrites {
  // None of the parent's flags: they may be V8 flags a thread refuses, or --conditions asking for TypeScript sources (a test runner).
  const worker = new Worker(threadFile(), { workerData: { path, synchronous }, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 } })
  // Held only while an answer is awaited: an idle relay (or a test) may exit.
  worker.unref()
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  let nextId = 1
  let failure: Error | undefined
  let exited: Promise<void> | undefined

  const failAll = (e: Error): void => {
    failure ??= e
    for (const w of waiting.values()) w.reject(e)
    waiting.clear()
  }
  worker.on('message', (a: WriteAnswer) => {
    const w = waiting.get(a.id)
    if (!w) return
    waiting.delete(a.id)
    if (waiting.size === 0) worker.unref()
    if (a.ok) w.resolve(a.result)
    else w.reject(new Error(a.message))
  })
  worker.on('error', (e) => failAll(new Error(`relay storage writer failed: ${e.message}`)))
  worker.on('exit', (code) => failAll(new Error(`relay storage writer stopped (exit code ${code})`)))

  const call = (op: WriteRequest['op'], args: unknown[]): Promise<never> =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure)
      const id = nextId++
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
      if (waiting.size === 1) worker.ref()
      worker.postMessage({ id, op, args } satisfies WriteRequest)
    })

  return {
    appendEnvelopes: (...args) => call('appendEnvelopes', args),
    appendOp: (...args) => call('appendOp', args),
    touchDevice: (...args) => call('touchDevice', args),
    close() {
      exited ??= new Promise<void>((resolve) => {
        if (failure) return resolve()
        worker.once('exit', () => resolve())
        worker.ref()
        // Messages are handled in order: every write asked for before this one is done first.
        worker.postMessage('close')
      })
      return exited
    },
  }
}
