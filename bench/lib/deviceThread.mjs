// One device in a thread of its own, for the threaded fan-out (scenarios/fanoutThreads.mjs):
// its own event loop and heap, as on a real phone or laptop, so that its deliveries do not
// wait behind the other devices' work or collections.
import { parentPort, workerData } from 'node:worker_threads'
import * as Y from 'yjs'
import { countingWebSocket } from './countingSocket.mjs'
import { portEndpoint, rpc } from './ipc.mjs'
import { startPauses, stopPauses } from './pauses.mjs'
import { systems } from './systems/index.mjs'
import { createTracker, writeEntry } from './workload.mjs'

const { system: name, url, room, index, n, clockBase, sent, perWriter } = workerData
// process.hrtime is one monotonic clock for every thread: write and delivery times compare.
const base = BigInt(clockBase)
const clock = () => Number(process.hrtime.bigint() - base) / 1e6
// When each writer's device first sent something after each of its entries, shared by all threads
// (each writes at most perWriter entries, so the tracker never grows these).
const sentAt = Array.from({ length: n }, (_, w) => new Float64Array(sent, w * perWriter * 8, perWriter))

const parent = rpc(portEndpoint(parentPort))
const system = systems[name]({ url, room, joinVia: index === 0 ? undefined : (code) => parent.call('admit', code) })
const doc = new Y.Doc()
const { traffic, WebSocket } = countingWebSocket()
const device = system.device(doc, { WebSocket })
const latencies = { from: Infinity, list: [], author: [] }
const tracker = createTracker(n, { latencies, clock, sentAt })
tracker.observe(index, doc)
traffic.onSend = () => tracker.sent(index)
let pauses

parent.serve({
  prepare: () => device.prepare(),
  connect: () => device.connect(),
  admit: (code) => device.admit(code),
  /** Writes this device's share of the round robin: entry k is writer k mod n's, due at startAt + k × intervalMs. */
  start({ startAt, intervalMs, total, warmAt, endAt }) {
    latencies.from = warmAt
    let k = index
    const tick = () => {
      const now = clock()
      while (k < total && startAt + k * intervalMs <= now) {
        const seq = tracker.written[index]
        tracker.wrote(index)
        writeEntry(doc, index, seq, now)
        k += n
      }
      // Asleep until this device's next entry is due (every n-th of the round robin), not every millisecond.
      if (k < total) setTimeout(tick, Math.max(0, startAt + k * intervalMs - clock()))
    }
    setTimeout(tick, Math.max(0, startAt - clock()))
    setTimeout(startPauses, Math.max(0, warmAt - clock()))
    setTimeout(() => (pauses = stopPauses()), Math.max(0, endAt - clock()))
    return true
  },
  deliveries: () => tracker.deliveries,
  /** Waits for `expected` deliveries, then reports what this device measured. */
  async finish({ expected, drainMs }) {
    const until = clock() + drainMs
    while (tracker.deliveries < expected && clock() < until) await new Promise((r) => setTimeout(r, 10))
    const out = { deliveries: tracker.deliveries, duplicates: tracker.duplicates, written: tracker.written[index], missing: tracker.deliveries === expected ? [] : tracker.missing(3), pauses, traffic: { ...traffic, onSend: undefined } }
    out.latencies = Float64Array.from(latencies.list)
    out.author = Float64Array.from(latencies.author)
    out.sealed = await system.sealedBy?.(device)
    if (index === 0) out.doc = system.docOf?.(device)
    return out
  },
  async close() {
    await device.close()
    return true
  },
})
parentPort.postMessage({ kind: 'ready' })
