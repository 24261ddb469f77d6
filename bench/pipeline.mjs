#!/usr/bin/env node
// The engine's own CPU per entry, without sockets or a second process: ten
// devices (full clients on memory stores) and a relay core on memory storage
// in this one process, frames handed over on the next turn. What the fan-out
// scenarios measure is mostly noise from the machine and the kernel; this is
// the engine's share alone, steady enough (a few percent) to compare two
// versions of the client.
//   node bench/pipeline.mjs [--devices 10] [--entries 6000] [--rounds 5] [--rate PER_SEC] [--profile FILE] [--yjs-only]
// --yjs-only runs the same workload on plain Y.Docs (each update handed to the other docs on the
// next turn, nothing sealed, checked or stored): the floor any Yjs-based system pays, so that
// the engine's own share is the difference.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import * as Y from 'yjs'
import { createMemoryStore, createSyncClient } from '@mindsync/client'
import { createMemoryRelayStorage, createRelayCore } from '@mindsync/relay'
import { createTracker, writeEntry } from './lib/workload.mjs'

const args = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : fallback
}
const n = Number(opt('devices', 10))
const entries = Number(opt('entries', 6000))
const rounds = Number(opt('rounds', 5))
const profileFile = opt('profile', undefined)
// With --rate, entries are written at that many per second in total (latency is then reported); without it, one per turn.
const rate = opt('rate', undefined) === undefined ? undefined : Number(opt('rate'))
const yjsOnly = args.includes('--yjs-only')

/** A Transport into the relay core: every frame is delivered on a later turn, as a socket would. */
function coreTransport(core) {
  return {
    async connect(request, handlers) {
      const { relayId, challenge } = await core.issueChallenge()
      const result = await core.authenticate({ signPub: request.signPub, vaultId: request.vaultId, challenge, signature: request.signAuth(relayId, challenge) })
      if (!result.ok) throw new Error(`relay refused: ${result.message}`)
      let open = true
      const session = core.openSession(result.auth, {
        send: (frame) => setImmediate(() => open && handlers.onFrame(frame)),
        close: (code, reason) => {
          open = false
          setImmediate(() => handlers.onClose(code, reason))
        },
        bufferedAmount: () => 0,
      })
      return {
        send: (frame) => setImmediate(() => open && session.receive(frame)),
        close: () => {
          open = false
          session.closed()
        },
      }
    },
  }
}

const once = (client, event, match) => new Promise((resolve) => {
  const off = client.on(event, (e) => {
    if (match(e)) {
      off()
      resolve(e)
    }
  })
})

/** Plain Y.Docs: each local update reaches every other doc on a later turn, as a broadcast relay would send it. */
async function plainDevices() {
  const devices = Array.from({ length: n }, () => ({ doc: new Y.Doc(), client: { close: async () => {} } }))
  devices.forEach(({ doc }, w) =>
    doc.on('update', (update, origin) => {
      if (origin === 'remote') return
      for (const [r, other] of devices.entries()) if (r !== w) setImmediate(() => Y.applyUpdate(other.doc, update, 'remote'))
    }),
  )
  return devices
}

async function engineDevices() {
  const core = createRelayCore({ storage: createMemoryRelayStorage() })
  const transport = coreTransport(core)
  const devices = []
  for (let i = 0; i < n; i++) {
    const client = await createSyncClient({ store: createMemoryStore(), transport, url: 'ws://pipeline', name: `d${i}` })
    if (i === 0) await client.createVault()
    else await devices[0].client.acceptPairing(await client.createPairingOffer())
    const online = once(client, 'status', (e) => e.status === 'online')
    client.connect()
    await online
    const doc = new Y.Doc()
    const synced = once(client, 'synced', (e) => e.doc === 'journal')
    await client.bind('journal', doc)
    await synced
    devices.push({ client, doc })
  }
  return devices
}

async function round() {
  const devices = await (yjsOnly ? plainDevices() : engineDevices())
  const latencies = { from: 0, list: [] }
  const tracker = createTracker(n, rate ? { latencies } : {})
  devices.forEach((d, r) => tracker.observe(r, d.doc))
  const session = profileFile ? new Session() : undefined
  if (session) {
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
  }
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  // One entry per turn (or at --rate), round robin, as devices writing at a steady rate would.
  for (let k = 0; k < entries; k++) {
    writeEntry(devices[k % n].doc, k % n, tracker.written[k % n], performance.now())
    tracker.wrote(k % n)
    if (rate) while (performance.now() < t0 + ((k + 1) * 1000) / rate) await new Promise((r) => setTimeout(r, 1))
    else await new Promise((r) => setImmediate(r))
  }
  const expected = entries * (n - 1)
  while (tracker.deliveries < expected) await new Promise((r) => setTimeout(r, 1))
  const cpu = process.cpuUsage(cpu0)
  const wall = performance.now() - t0
  if (session) {
    const { profile } = await session.post('Profiler.stop')
    writeFileSync(profileFile, JSON.stringify(profile))
    session.disconnect()
  }
  for (const d of devices) await d.client.close()
  const sorted = Float64Array.from(latencies.list).sort()
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
  return { usPerEntry: (cpu.user + cpu.system) / entries, usPerDelivery: (cpu.user + cpu.system) / expected, wallMs: wall, latency: rate ? ` latency p50 ${q(0.5).toFixed(2)} p90 ${q(0.9).toFixed(2)} p99 ${q(0.99).toFixed(2)} ms` : '' }
}

// A first round warms the JIT up and is not counted.
const results = []
for (let r = 0; r <= rounds; r++) {
  const res = await round()
  if (r > 0) results.push(res)
  console.log(`round ${r}${r === 0 ? ' (warm-up)' : ''}: ${res.usPerEntry.toFixed(0)} µs CPU per entry (${res.usPerDelivery.toFixed(1)} per delivery), ${res.wallMs.toFixed(0)} ms${res.latency}`)
}
const sorted = results.map((r) => r.usPerEntry).sort((a, b) => a - b)
console.log(`median: ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} µs CPU per entry (best ${sorted[0].toFixed(0)}), ${n} devices, ${entries} entries, ${yjsOnly ? 'plain Yjs (no engine, no relay)' : 'the relay core included'}`)
process.exit(0)
