// The writer thread's entry point (see sqliteWriter.ts): one connection to the
// relay's file, every write in arrival order, answers by request id.
import { parentPort, workerData } from 'node:worker_threads'
import { openDatabase } from './sqliteOpen.js'
import { prepareWrites } from './sqliteWrites.js'
import type { SqliteWrites } from './sqliteWrites.js'

export interface WriteRequest {
  id: number
  op: keyof SqliteWrites
  args: unknown[]
}

export type WriteAnswer = { id: number; ok: true; result: unknown } | { id: number; ok: false; message: string }

const { path, synchronous } = workerData as { path: string; synchronous: 'full' | 'normal' }
// The main thread has migrated the schema before starting this thread.
const db = openDatabase(path, synchronous)
const writes = prepareWrites(db)
const port = parentPort as NonNullable<typeof parentPort>

port.on('message', (m: WriteRequest | 'close') => {
  if (m === 'close') {
    db.close()
    port.close()
    return
  }
  let answer: WriteAnswer
  try {
    answer = { id: m.id, ok: true, result: (writes[m.op] as (...a: unknown[]) => unknown)(...m.args) }
  } catch (e) {
    answer = { id: m.id, ok: false, message: (e as Error).message }
  }
  port.postMessage(answer)
})
