// Figures both fan-out layouts report (scenarios/fanout.mjs, scenarios/fanoutThreads.mjs).
import { quantile } from './workload.mjs'

export const round = (x, digits) => Math.round(x * 10 ** digits) / 10 ** digits

/**
 * CPU over the measured window, from snapshots `a` and `b` at its start and end
 * (`{ t: ms, deliveries, cpu: µs, faults, server: { cpuUs } }`) of `n` devices.
 */
export function windowFigures(a, b, n) {
  const seconds = (b.t - a.t) / 1000
  const relayUs = b.server.cpuUs - a.server.cpuUs
  return {
    windowSec: round(seconds, 2),
    relayCpuUsPerUpdate: round(relayUs / ((b.deliveries - a.deliveries) / (n - 1)), 1),
    relayCpuUsPerDelivery: round(relayUs / (b.deliveries - a.deliveries), 2),
    relayCpuLoad: round(relayUs / 1e6 / seconds, 2),
    clientsCpuLoad: round((b.cpu - a.cpu) / 1e6 / seconds, 2),
    // Fresh memory costs a page fault per 4 KiB page when first written (about 11 µs each on the bench machine).
    clientsPageFaultsPerSec: Math.round((b.faults - a.faults) / seconds),
  }
}

/** What the devices' sockets carried per entry written, over the whole run (set-up included). */
export function trafficFigures(traffics, written) {
  const t = traffics.reduce((s, x) => ({ in: s.in + x.in, out: s.out + x.out, messagesIn: s.messagesIn + x.messagesIn, messagesOut: s.messagesOut + x.messagesOut }), { in: 0, out: 0, messagesIn: 0, messagesOut: 0 })
  return {
    messagesInPerEntry: round(t.messagesIn / written, 2),
    messagesOutPerEntry: round(t.messagesOut / written, 2),
    bytesInPerEntry: Math.round(t.in / written),
    bytesOutPerEntry: Math.round(t.out / written),
  }
}

/** Quantiles of delivery latencies in ms. */
export function latencyFigures(list) {
  const sorted = Float64Array.from(list).sort()
  return {
    samples: sorted.length,
    p50Ms: round(quantile(sorted, 0.5), 2),
    p90Ms: round(quantile(sorted, 0.9), 2),
    p99Ms: round(quantile(sorted, 0.99), 2),
    maxMs: round(sorted[sorted.length - 1], 2),
  }
}

/**
 * The deliveries at or over p99: their mean latency, and how much of it passed before the
 * author's device sent the entry (batching, sealing, a busy event loop on the writing side); the
 * rest is the relay and the receiving side.
 */
export function slowest({ list, author }, p99) {
  let count = 0
  let total = 0
  let waited = 0
  for (let i = 0; i < list.length; i++) {
    if (list[i] < p99 || Number.isNaN(author[i])) continue
    count++
    total += list[i]
    waited += author[i]
  }
  return count === 0 ? {} : { slowMeanMs: round(total / count, 2), slowAuthorMs: round(waited / count, 2) }
}
