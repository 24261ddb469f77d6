// The page bench/durable-devices.mjs runs in Chromium: `devices` mindsync clients in one page,
// each on its own IndexedDB store (strict or relaxed durability) or a memory store, on the browser's own WebSocket and the
// portable crypto backend, writing entries round robin at `rate` per second in total through
// the relay at `relay`. The result lands in globalThis.benchResult (or benchError).
import * as Y from 'yjs'
import { createMemoryStore, createSyncClient, createWebSocketTransport } from '@mindsync/client'
import { createIdbStore } from '@mindsync/store-idb'
import { createTracker, writeAtRate } from './workload.mjs'

const params = new URLSearchParams(location.search)
const relay = params.get('relay')
const storeKind = params.get('store')
const n = Number(params.get('devices'))
const rate = Number(params.get('rate'))
const seconds = Number(params.get('seconds'))
const warmupMs = 1000

const statusOf = (client, status) => new Promise((resolve) => client.on('status', (e) => e.status === status && resolve()))
const syncedOf = (client) => new Promise((resolve) => client.on('synced', (e) => e.doc === 'journal' && resolve()))

async function openDevice(i, admin) {
  const name = `bench-device-${i}-${Date.now()}`
  const store =
    storeKind === 'memory' ? createMemoryStore() : await createIdbStore(name, { durability: storeKind === 'idb-relaxed' ? 'relaxed' : 'strict' })
  const client = await createSyncClient({ store, transport: createWebSocketTransport(), url: relay, name: `browser ${i}` })
  if (!admin) await client.createVault()
  else await admin.acceptPairing(await client.createPairingOffer())
  const online = statusOf(client, 'online')
  client.connect()
  await online
  const ydoc = new Y.Doc()
  const synced = syncedOf(client)
  await client.bind('journal', ydoc)
  await synced
  return { client, ydoc }
}

async function run() {
  const devices = [await openDevice(0)]
  for (let i = 1; i < n; i++) devices.push(await openDevice(i, devices[0].client))
  const latencies = { from: Infinity, list: [] }
  const tracker = createTracker(n, { latencies })
  devices.forEach((d, r) => tracker.observe(r, d.ydoc))
  try {
    await writeAtRate(devices.map((d) => d.ydoc), tracker, { rate, warmupMs, seconds, latencies })
  } finally {
    for (const d of devices) await d.client.close()
  }
  return { latencies: latencies.list }
}

run().then(
  (r) => {
    globalThis.benchResult = r
  },
  (e) => {
    globalThis.benchError = `${e?.message ?? e}\n${e?.stack ?? ''}`
  },
)
