// Where the slow deliveries of a fixed-rate fan-out come from: lines up the latency dump with the
// stall logs of the relay and the clients process.
//   BENCH_LATENCY_DUMP=/tmp/lat.json BENCH_STALL_LOG=/tmp/stall \
//     node bench/run.mjs --systems mindsync --scenarios fanout-10-fixed1000 --repeat 1
//   node bench/stalls.mjs /tmp/lat.json /tmp/stall [slowMs] [episodes]
// Prints the latency distribution, the 100 ms stretches with the most deliveries slower than
// slowMs (default 8) and, for each, the GCs and event-loop gaps of both processes around it.
// Dumps with a third column (the part before the author's device sent) also get that part:
// p99 with it taken out, and its mean in each stretch.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { quantile } from './lib/workload.mjs'

const [dumpFile, prefix, slowArg, episodesArg] = process.argv.slice(2)
if (!dumpFile || !prefix) {
  console.error('usage: node bench/stalls.mjs LATENCY_DUMP.json STALL_LOG_PREFIX [slowMs] [episodes]')
  process.exit(2)
}
const slowMs = Number(slowArg ?? 8)
const episodes = Number(episodesArg ?? 5)

/** [wall-clock write ms, latency ms, ms before the author sent (null: not known; absent in older dumps)] per delivery. */
const deliveries = JSON.parse(readFileSync(dumpFile, 'utf8'))
// The most recent log of each role (a run with --repeat writes several).
const logs = new Map()
const byAge = (name) => statSync(join(dirname(prefix), name)).mtimeMs
for (const name of readdirSync(dirname(prefix)).sort((a, b) => byAge(a) - byAge(b))) {
  const m = name.match(new RegExp(`^${basename(prefix)}-(\\w+)-\\d+\\.json$`))
  if (m) logs.set(m[1], JSON.parse(readFileSync(join(dirname(prefix), name), 'utf8')))
}
const events = [...logs].flatMap(([role, list]) => list.map((e) => ({ role, ...e }))).sort((a, b) => a.at - b.at)

const t0 = Math.min(...deliveries.map((d) => d[0]))
const sorted = Float64Array.from(deliveries, (d) => d[1]).sort()
const q = (p) => quantile(sorted, p)
console.log(`${sorted.length} deliveries: p50 ${q(0.5).toFixed(2)}  p90 ${q(0.9).toFixed(2)}  p99 ${q(0.99).toFixed(2)}  max ${sorted[sorted.length - 1].toFixed(2)} ms`)
const bounds = [1, 2, 4, 8, 16, 32, Infinity]
let from = 0
for (const b of bounds) {
  const n = sorted.filter((x) => x >= from && x < b).length
  console.log(`  ${String(from).padStart(2)}–${b === Infinity ? '…' : b} ms: ${((n / sorted.length) * 100).toFixed(2)}%`)
  from = b
}
const authored = deliveries.filter((d) => typeof d[2] === 'number')
if (authored.length > 0) {
  const rest = Float64Array.from(authored, (d) => d[1] - d[2]).sort()
  const part = Float64Array.from(authored, (d) => d[2]).sort()
  console.log(`before the author sent: p50 ${quantile(part, 0.5).toFixed(2)}  p99 ${quantile(part, 0.99).toFixed(2)} ms; the latency without that part: p50 ${quantile(rest, 0.5).toFixed(2)}  p99 ${quantile(rest, 0.99).toFixed(2)} ms`)
}

for (const [role, list] of logs) {
  const gcs = list.filter((e) => e.what.startsWith('gc'))
  const gaps = list.filter((e) => e.what === 'loop')
  const sum = (xs) => Math.round(xs.reduce((s, e) => s + e.ms, 0))
  console.log(`${role}: ${gcs.length} GCs (${sum(gcs)} ms, ${gcs.filter((e) => e.ms > 4).length} over 4 ms), ${gaps.length} loop gaps over 3 ms (${sum(gaps)} ms)`)
}

const buckets = new Map()
for (const [at, ms, author] of deliveries) {
  if (ms <= slowMs) continue
  const k = Math.floor((at - t0) / 100)
  const b = buckets.get(k) ?? { n: 0, author: 0, authored: 0 }
  b.n++
  if (typeof author === 'number') {
    b.author += author
    b.authored++
  }
  buckets.set(k, b)
}
const worst = [...buckets].sort((a, b) => b[1].n - a[1].n).slice(0, episodes).sort((a, b) => a[0] - b[0])
for (const [k, { n, author, authored: counted }] of worst) {
  const lo = t0 + k * 100 - 50
  const hi = t0 + k * 100 + 150
  const authorPart = counted > 0 ? ` (${(author / counted).toFixed(2)} ms of it, on average, before the author sent)` : ''
  console.log(`\n${n} deliveries over ${slowMs} ms written at ${k * 100}–${k * 100 + 100} ms${authorPart}; stalls from ${k * 100 - 50} ms:`)
  for (const e of events) if (e.at >= lo && e.at <= hi) console.log(`  ${(e.at - t0).toFixed(1).padStart(8)}  ${e.role.padEnd(8)} ${e.what.padEnd(5)} ${e.ms.toFixed(1).padStart(5)} ms`)
}
