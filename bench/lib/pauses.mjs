// What stalls a process during the measured window: time spent in garbage collection and the
// longest stretches its event loop could not run (a tail latency is usually one of these).
import { PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks'

let gcMs = 0
let gcMaxMs = 0
let observer
let histogram
let elu

export function startPauses() {
  gcMs = 0
  gcMaxMs = 0
  observer?.disconnect()
  observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration
      if (e.duration > gcMaxMs) gcMaxMs = e.duration
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  histogram?.disable()
  histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  elu = performance.eventLoopUtilization()
}

/** `{ gcMs, gcMaxMs, loopMaxMs, loopP99Ms, loopBusy, heapMB, arrayBuffersMB }` since startPauses(); loopBusy is the event loop's utilization (0–1). */
export function stopPauses() {
  observer?.disconnect()
  histogram?.disable()
  const round = (x) => Math.round(x * 10) / 10
  const out = {
    gcMs: round(gcMs),
    gcMaxMs: round(gcMaxMs),
    loopMaxMs: round((histogram?.max ?? 0) / 1e6),
    loopP99Ms: round((histogram?.percentile(99) ?? 0) / 1e6),
    loopBusy: elu ? Math.round(performance.eventLoopUtilization(elu).utilization * 100) / 100 : undefined,
    heapMB: round(process.memoryUsage().heapUsed / 2 ** 20),
    arrayBuffersMB: round(process.memoryUsage().arrayBuffers / 2 ** 20),
  }
  observer = undefined
  histogram = undefined
  return out
}
