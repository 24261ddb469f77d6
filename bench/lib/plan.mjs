// What one run measures: scenarios, their parameters in full and --quick runs, and how the
// figures a driver reports become records.
export const SYSTEMS = ['mindsync', 'y-websocket', 'hocuspocus', 'raw-ws']

/**
 * Each entry runs once per system (client-cost: mindsync only) against a fresh server, or
 * `repeat` times with the run of the median `medianOf` figure reported (all values in `runs`).
 * `records(figures)` turns the driver's figures into one or more `{ scenario, ...figures }`.
 * An `optional` entry runs only when --scenarios names it.
 */
export function plan(quick) {
  const q = (full, small) => (quick ? small : full)
  return [
    {
      id: 'fanout-10-max',
      kind: 'fanout',
      // On two shared cores one run varies by ±30%: the median of three (full runs).
      repeat: q(3, 1),
      medianOf: 'deliveredPerSec',
      params: { n: 10, mode: 'max', inflight: 200, warmupMs: q(2000, 500), durationMs: q(6000, 2000) },
      records: (f) => [
        { scenario: 'fanout-10-max', ...f },
        { scenario: 'relay-cpu-fanout-10', usPerUpdate: f.relayCpuUsPerUpdate, usPerDelivery: f.relayCpuUsPerDelivery, relayCpuLoad: f.relayCpuLoad, deliveredPerSec: f.deliveredPerSec },
      ],
    },
    {
      id: 'fanout-50-max',
      kind: 'fanout',
      params: { n: 50, mode: 'max', inflight: 200, warmupMs: q(2000, 500), durationMs: q(6000, 2000) },
      records: (f) => [{ scenario: 'fanout-50-max', ...f }],
    },
    {
      id: 'fanout-10-fixed1000',
      kind: 'fanout',
      // p99 of a saturated process swings most of all: the median of three by p99 (full runs).
      repeat: q(3, 1),
      medianOf: 'p99Ms',
      params: { n: 10, mode: 'fixed', rate: 1000, warmupMs: q(2000, 500), durationMs: q(10000, 2000) },
      records: (f) => [{ scenario: 'fanout-10-fixed1000', ...f }],
    },
    {
      // The same, with every device in a thread of its own (lib/deviceThread.mjs), so that a
      // delivery does not wait behind nine other devices in one event loop and heap. Only when
      // named (--scenarios): it adds three minutes, and the bench README says what it showed.
      id: 'fanout-10-fixed1000-threads',
      kind: 'fanoutThreads',
      optional: true,
      repeat: q(3, 1),
      medianOf: 'p99Ms',
      params: { n: 10, rate: 1000, warmupMs: q(2000, 500), durationMs: q(10000, 2000) },
      records: (f) => [{ scenario: 'fanout-10-fixed1000-threads', ...f }],
    },
    {
      // Not in the list: latency when nothing is saturated, to see what the
      // 1,000/s figures owe to queueing in the shared client process.
      id: 'fanout-10-fixed100',
      kind: 'fanout',
      params: { n: 10, mode: 'fixed', rate: 100, warmupMs: q(2000, 500), durationMs: q(8000, 1500) },
      records: (f) => [{ scenario: 'fanout-10-fixed100', ...f }],
    },
    {
      id: 'initial-sync-100k',
      kind: 'initialSync',
      params: { entries: q(100_000, 5_000) },
      records: (f) => [
        { scenario: 'initial-sync-100k', ...f },
        { scenario: 'relay-rss-100k', rssMB: f.relayPeakRssMB, rssBeforeMB: f.relayRssBeforeMB, heapMB: f.relayPeakHeapMB, heapBeforeMB: f.relayHeapBeforeMB, entries: f.entries },
      ],
    },
    {
      id: 'relay-rss-idle-1000',
      kind: 'idle',
      // Settle past Node's 5 s HTTP keep-alive timeout: challenge requests leave idle HTTP sockets.
      params: { connections: q(1000, 100), settleMs: q(6000, 1000), stableMs: q(5000, 2000), maxSettleMs: q(30_000, 6000) },
      records: (f) => [{ scenario: 'relay-rss-idle-1000', ...f }],
    },
    {
      id: 'client-cost',
      kind: 'clientCost',
      systems: ['mindsync'],
      noServer: true,
      params: { budgetMs: q(200, 30) },
      records: (f) => [{ scenario: 'client-cost', ...f }],
    },
  ]
}

/** The figures shown in the table and the chart: scenario, figure, unit, which way is better. */
export const HEADLINES = [
  { scenario: 'fanout-10-max', figure: 'deliveredPerSec', label: 'fan-out 10, max', unit: 'deliveries/s', better: 'higher' },
  { scenario: 'fanout-50-max', figure: 'deliveredPerSec', label: 'fan-out 50, max', unit: 'deliveries/s', better: 'higher' },
  { scenario: 'fanout-10-fixed1000', figure: 'p50Ms', label: 'fan-out 10 @1000/s p50', unit: 'ms', better: 'lower' },
  { scenario: 'fanout-10-fixed1000', figure: 'p90Ms', label: 'fan-out 10 @1000/s p90', unit: 'ms', better: 'lower' },
  { scenario: 'fanout-10-fixed1000', figure: 'p99Ms', label: 'fan-out 10 @1000/s p99', unit: 'ms', better: 'lower' },
  { scenario: 'fanout-10-fixed1000', figure: 'maxMs', label: 'fan-out 10 @1000/s max', unit: 'ms', better: 'lower' },
  { scenario: 'fanout-10-fixed1000-threads', figure: 'p50Ms', label: 'fan-out 10 @1000/s, a thread per device, p50', unit: 'ms', better: 'lower' },
  { scenario: 'fanout-10-fixed1000-threads', figure: 'p99Ms', label: 'fan-out 10 @1000/s, a thread per device, p99', unit: 'ms', better: 'lower' },
  { scenario: 'fanout-10-fixed100', figure: 'p50Ms', label: 'fan-out 10 @100/s p50', unit: 'ms', better: 'lower' },
  { scenario: 'fanout-10-fixed100', figure: 'p99Ms', label: 'fan-out 10 @100/s p99', unit: 'ms', better: 'lower' },
  { scenario: 'initial-sync-100k', figure: 'ms', label: 'initial sync 100k', unit: 'ms', better: 'lower' },
  { scenario: 'initial-sync-100k', figure: 'bytes', label: 'initial sync 100k', unit: 'bytes', better: 'lower' },
  { scenario: 'relay-rss-100k', figure: 'rssMB', label: 'relay RSS serving 100k', unit: 'MB', better: 'lower' },
  { scenario: 'relay-rss-idle-1000', figure: 'rssMB', label: 'relay RSS, 1000 idle', unit: 'MB', better: 'lower' },
  { scenario: 'relay-cpu-fanout-10', figure: 'usPerUpdate', label: 'relay CPU per update (fan-out 10)', unit: 'µs', better: 'lower' },
]

export const CLIENT_COST = [
  ['sealSignUs', 'seal + sign, ~100 B update'],
  ['verifyOpenUs', 'decode + verify + open, ~100 B update'],
  ['sealSign64KiBUs', 'seal + sign, 64 KiB update'],
  ['verifyOpen64KiBUs', 'decode + verify + open, 64 KiB update'],
  ['signUs', 'of which Ed25519 sign'],
  ['verifyUs', 'of which Ed25519 verify'],
  ['openUs', 'of which XChaCha20-Poly1305 open'],
  ['envelopeHashUs', 'envelope chain hash'],
  ['rawNodeSignUs', 'baseline: node:crypto sign, no wrapper'],
  ['rawNodeVerifyUs', 'baseline: node:crypto verify, no wrapper'],
  ['yjsApplyUs', 'baseline: Y.applyUpdate of one entry'],
]
