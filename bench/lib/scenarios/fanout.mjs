// Fan-out: n devices on one doc, every device writing entries; every entry must reach every
// other device. Mode 'max': at most `inflight` entries in flight in total (written but not yet
// delivered to every other device), split evenly over the writers; a writer writes again as
// its entries complete.
// Mode 'fixed': `rate` entries per second in total, round robin over the writers; latency
// from write to delivery on each receiver.
import { writeFileSync } from 'node:fs'
import { closeAll, cpuUs, openDevices, sleep } from '../devices.mjs'
import { startPauses, stopPauses } from '../pauses.mjs'
import { startWindow, stopWindow } from '../profiler.mjs'
import { latencyFigures, round, slowest, trafficFigures, windowFigures } from '../fanoutFigures.mjs'
import { createTracker, writeEntry } from '../workload.mjs'

export async function fanout({ system, server, n, mode, warmupMs, durationMs, inflight = 200, rate = 1000, drainMs = 60_000 }) {
  const window = Math.max(1, Math.round(inflight / n))
  const devices = await openDevices(system, n)
  let pump = () => {}
  let scheduled = false
  // BENCH_LATENCY_DUMP=FILE keeps each delivery's write time too and writes [wall-clock write ms, latency ms, ms before the author sent (null: not known)] (bench/stalls.mjs reads them).
  const dump = process.env.BENCH_LATENCY_DUMP
  const latencies = mode === 'fixed' ? { from: Infinity, list: [], author: [], at: dump ? [] : undefined } : undefined
  const tracker = createTracker(n, {
    latencies,
    onComplete() {
      if (!scheduled) {
        scheduled = true
        setImmediate(() => {
          scheduled = false
          pump()
        })
      }
    },
  })
  devices.forEach((d, r) => tracker.observe(r, d.ydoc))
  if (latencies) devices.forEach((d, w) => (d.traffic.onSend = () => tracker.sent(w)))
  await sleep(200)

  const write = (w, now) => {
    const seq = tracker.written[w]
    // Counted first: a device that sends the entry while it is being written (y-websocket) has sent it.
    tracker.wrote(w)
    writeEntry(devices[w].ydoc, w, seq, now)
  }
  const start = performance.now()
  const warmAt = start + warmupMs
  const endAt = warmAt + durationMs
  let writing = true

  if (mode === 'max') {
    pump = () => {
      if (!writing) return
      const now = performance.now()
      if (now >= endAt) {
        writing = false
        return
      }
      for (let w = 0; w < n; w++) while (tracker.written[w] - tracker.completed[w] < window) write(w, now)
    }
    pump()
  } else {
    latencies.from = warmAt
    const intervalMs = 1000 / rate
    const total = Math.round(((warmupMs + durationMs) * rate) / 1000)
    let k = 0
    const tick = () => {
      const now = performance.now()
      while (k < total && start + k * intervalMs <= now) write(k++ % n, now)
      if (k < total) setTimeout(tick, 1)
      else writing = false
    }
    tick()
  }

  const debug = process.env.BENCH_DEBUG ? setInterval(() => console.log(`t=${Math.round(performance.now() - start)} written=${tracker.totalWritten()} delivered=${tracker.deliveries}`), 250) : undefined
  const snap = async () => ({ t: performance.now(), deliveries: tracker.deliveries, written: tracker.totalWritten(), cpu: cpuUs(), faults: process.resourceUsage().minorPageFault, server: await server('stats') })
  await sleep(Math.max(0, warmAt - performance.now()))
  const a = await snap()
  startPauses()
  await server('pausesStart')
  await startWindow(server)
  await sleep(Math.max(0, endAt - performance.now()))
  const b = await snap()
  const clientPauses = stopPauses()
  const relayPauses = await server('pausesStop')
  writing = false
  await stopWindow(server)

  // Drain: everything written must reach every other device.
  const expected = () => tracker.totalWritten() * (n - 1)
  const drainStart = performance.now()
  while (tracker.deliveries < expected() && performance.now() - drainStart < drainMs) await sleep(10)
  const drained = performance.now()
  clearInterval(debug)
  const missing = tracker.missing()
  if (missing.length > 0 || tracker.deliveries !== expected()) {
    await closeAll(devices)
    throw new Error(`${system.name} fan-out: ${expected() - tracker.deliveries} deliveries missing after ${drainMs} ms, e.g. ${JSON.stringify(missing.slice(0, 3))}`)
  }
  const stored = (await system.verifyStored?.(devices, server)) ?? {}
  const c = await server('stats')
  await closeAll(devices)

  const seconds = (b.t - a.t) / 1000
  const figures = {
    devices: n,
    writtenTotal: tracker.totalWritten(),
    deliveriesTotal: tracker.deliveries,
    duplicates: tracker.duplicates,
    ...windowFigures(a, b, n),
    relayRssMB: round(c.rssMB, 1),
    drainMs: Math.round(drained - drainStart),
    clientsGcMs: clientPauses.gcMs,
    clientsGcMaxMs: clientPauses.gcMaxMs,
    clientsMajorGcs: clientPauses.majorGcs,
    clientsLoopMaxMs: clientPauses.loopMaxMs,
    clientsLoopBusy: clientPauses.loopBusy,
    clientsHeapMB: clientPauses.heapMB,
    clientsArrayBuffersMB: clientPauses.arrayBuffersMB,
    relayGcMs: relayPauses.gcMs,
    relayMajorGcs: relayPauses.majorGcs,
    relayLoopMaxMs: relayPauses.loopMaxMs,
    relayLoopBusy: relayPauses.loopBusy,
  }
  const written = tracker.totalWritten()
  Object.assign(figures, trafficFigures(devices.map((d) => d.traffic), written))
  if (c.server?.commits !== undefined) figures.relayCommits = c.server.commits
  if (stored.envelopesStored !== undefined) Object.assign(figures, stored, { entriesPerEnvelope: round(tracker.totalWritten() / stored.envelopesStored, 1) })
  if (mode === 'max') {
    figures.deliveredPerSec = Math.round((b.deliveries - a.deliveries) / seconds)
    figures.writtenPerSec = Math.round((b.written - a.written) / seconds)
    figures.window = window
    figures.inflight = inflight
  } else {
    if (dump) writeFileSync(dump, JSON.stringify(latencies.list.map((l, i) => [round(performance.timeOrigin + latencies.at[i], 2), round(l, 2), Number.isNaN(latencies.author[i]) ? null : round(latencies.author[i], 2)])))
    figures.rate = rate
    Object.assign(figures, latencyFigures(latencies.list))
    Object.assign(figures, slowest(latencies, figures.p99Ms))
    figures.deliveredPerSec = Math.round((b.deliveries - a.deliveries) / seconds)
  }
  return figures
}
