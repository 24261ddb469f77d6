#!/usr/bin/env node
// Delivery latency between mindsync devices that keep their envelopes in a durable store, as
// real ones do (the fan-out scenarios give every device a memory store). A few devices write
// entries round robin at a fixed total rate through a mindsync relay in its own process; every
// delivery's time from write to the receiver's doc is recorded. The devices:
//   --store sqlite   in this process, each on its own SQLite file (`@mindsync/store-sqlite`,
//                    synchronous=FULL, as apps/cli opens it)
//   --store idb      in one Chromium page, each on its own IndexedDB store (`@mindsync/store-idb`,
//                    strict durability, its default), on the browser's WebSocket and the
//                    portable crypto backend; --store idb-relaxed: the same with relaxed durability
//   --store memory   memory stores, in this process (or in Chromium with --browser)
//   node bench/durable-devices.mjs [--store sqlite|idb|idb-relaxed|memory] [--browser] [--devices 3] [--rate 30] [--seconds 10]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createSqliteStore } from '@mindsync/store-sqlite'
import { closeAll, cpuUs, openDevices } from './lib/devices.mjs'
import { runPage } from './lib/chromium.mjs'
import { spawnChild } from './lib/ipc.mjs'
import { createSystem } from './lib/systems/mindsync.mjs'
import { createTracker, quantile, writeAtRate } from './lib/workload.mjs'

const args = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : fallback
}
const storeKind = opt('store', 'sqlite')
const n = Number(opt('devices', 3))
const rate = Number(opt('rate', 30))
const seconds = Number(opt('seconds', 10))
if (!['sqlite', 'idb', 'idb-relaxed', 'memory'].includes(storeKind)) throw new Error(`--store must be sqlite, idb, idb-relaxed or memory, not ${storeKind}`)
const browser = storeKind.startsWith('idb') || args.includes('--browser')
const warmupMs = 1000

const here = dirname(fileURLToPath(import.meta.url))
const server = spawnChild(join(here, 'lib/serverMain.mjs'), { label: 'relay', role: 'relay' })
const dir = mkdtempSync(join(tmpdir(), 'bench-durable-devices-'))
let devices = []
try {
  const { url } = await server.rpc.call('start', { system: 'mindsync' })
  const measured = browser ? await inChromium(url) : await inNode(url)
  const sorted = Float64Array.from(measured.latencies).sort()
  const f = (q) => quantile(sorted, q).toFixed(2)
  console.log(`${n} devices on ${storeKind} stores${browser ? ' in Chromium' : ''}, ${rate} entries/s for ${seconds} s: ${sorted.length} deliveries`)
  console.log(`latency ms: p50 ${f(0.5)}  p90 ${f(0.9)}  p99 ${f(0.99)}  max ${sorted[sorted.length - 1].toFixed(2)}`)
  if (measured.cpuCores !== undefined) console.log(`devices' process CPU: ${measured.cpuCores.toFixed(2)} cores`)
} finally {
  await closeAll(devices)
  server.child.kill()
  await server.exited
  rmSync(dir, { recursive: true, force: true })
}

async function inChromium(url) {
  return runPage({ relay: url, store: storeKind, devices: n, rate, seconds })
}

async function inNode(url) {
  const system = createSystem({ url })
  const store = storeKind === 'sqlite' ? (i) => createSqliteStore(join(dir, `device-${i}.db`)) : undefined
  devices = await openDevices(system, n, { store })

  const latencies = { from: Infinity, list: [] }
  const tracker = createTracker(n, { latencies })
  devices.forEach((d, r) => tracker.observe(r, d.ydoc))
  // CPU over the measured writes and the drain after them, per second of that same stretch.
  const warm = { cpu: 0, t: 0 }
  await writeAtRate(devices.map((d) => d.ydoc), tracker, { rate, warmupMs, seconds, latencies, onWarm: () => Object.assign(warm, { cpu: cpuUs(), t: performance.now() }) })
  return { latencies: latencies.list, cpuCores: (cpuUs() - warm.cpu) / 1e3 / (performance.now() - warm.t) }
}
