// What stalls a process during the measured window: time spent in garbage collection and the
// longest stretches its event loop could not run (a tail latency is usually one of these).
import { writeFileSync } from 'node:fs'
import { PerformanceObserver, constants, monitorEventLoopDelay, performance } from 'node:perf_hooks'

let gcMs = 0
let gcMaxMs = 0
let majorGcs = 0
let observer
let histogram
let elu
// BENCH_STALL_LOG=PREFIX: each process writes PREFIX-<role>-<pid>.json with every GC and every
// event-loop gap over 3 ms of the measured window, in wall-clock ms, so that bench/stalls.mjs
// can line the slow deliveries up with what stalled which process.
const stallLog = process.env.BENCH_STALL_LOG
let events
let ticker

export function startPauses() {
  gcMs = 0
  gcMaxMs = 0
  majorGcs = 0
  observer?.disconnect()
  observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration
      events?.push({ what: `gc${e.detail?.kind ?? ''}`, at: performance.timeOrigin + e.startTime, ms: e.duration })
      if (e.duration > gcMaxMs) gcMaxMs = e.duration
      if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs++
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  histogram?.disable()
  histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  elu = performance.eventLoopUtilization()
  if (stallLog) {
    events = []
    let last = performance.now()
    clearInterval(ticker)
    ticker = setInterval(() => {
      const now = performance.now()
      if (now - last > 3) events.push({ what: 'loop', at: performance.timeOrigin + last, ms: now - last })
      last = now
    }, 1)
  }
}

/** `{ gcMs, gcMaxMs, majorGcs, loopMaxMs, loopP99Ms, loopBusy, heapMB, arrayBuffersMB }` since startPauses(); loopBusy is the event loop's utilization (0–1), majorGcs the mark-compacts. */
export function stopPauses() {
  observer?.disconnect()
  histogram?.disable()
  const round = (x) => Math.round(x * 10) / 10
  const out = {
    gcMs: round(gcMs),
    gcMaxMs: round(gcMaxMs),
    majorGcs,
    loopMaxMs: round((histogram?.max ?? 0) / 1e6),
    loopP99Ms: round((histogram?.percentile(99) ?? 0) / 1e6),
    loopBusy: elu ? Math.round(performance.eventLoopUtilization(elu).utilization * 100) / 100 : undefined,
    heapMB: round(process.memoryUsage().heapUsed / 2 ** 20),
    arrayBuffersMB: round(process.memoryUsage().arrayBuffers / 2 ** 20),
  }
  observer = undefined
  histogram = undefined
  if (events) {
    clearInterval(ticker)
    writeFileSync(`${stallLog}-${process.env.BENCH_ROLE ?? 'process'}-${process.pid}.json`, JSON.stringify(events))
    events = undefined
  }
  return out
}
