// Initial sync: a writer device writes a journal of `entries` entries, one update each
// (mindsync: one sealed envelope each, all acknowledged, i.e. stored in the relay's SQLite
// file). Then a NEW device joins; we time it from connecting until its doc holds every entry
// and equals the writer's, and count the payload bytes it sent and received. The server's
// RSS is sampled while it serves the journal.
import * as Y from 'yjs'
import { countingWebSocket } from '../countingSocket.mjs'
import { closeAll, cpuUs, sleep } from '../devices.mjs'
import { startWindow, stopWindow } from '../profiler.mjs'
import { MAP, writeEntry } from '../workload.mjs'

const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i])

function newDevice(system, options = {}) {
  const { traffic, WebSocket } = countingWebSocket()
  const d = system.device(new Y.Doc(), { WebSocket, ...options })
  d.traffic = traffic
  return d
}

/** Resolves when `doc`'s journal holds `count` keys (counting new keys as they arrive). */
function whenComplete(doc, count) {
  let have = doc.getMap(MAP).size
  return new Promise((resolve) => {
    if (have >= count) return resolve(performance.now())
    const map = doc.getMap(MAP)
    const observer = (event) => {
      have += event.keysChanged.size
      if (have >= count) {
        map.unobserve(observer)
        resolve(performance.now())
      }
    }
    map.observe(observer)
  })
}

export async function initialSync({ system, systemName, server, entries, timeoutMs = 300_000 }) {
  const devices = []
  const writer = newDevice(system)
  devices.push(writer)
  await writer.prepare()
  await writer.connect()

  // Peers do not acknowledge updates: a second device that watches the journal arrive tells
  // us the server has applied all of it. mindsync's writer waits for the relay's acks instead.
  let observer
  if (systemName !== 'mindsync') {
    observer = newDevice(system)
    devices.push(observer)
    await observer.prepare()
    await observer.connect()
  }
  const writeStart = performance.now()
  const observed = observer && whenComplete(observer.ydoc, entries)
  for (let i = 0; i < entries; i++) {
    writeEntry(writer.ydoc, 0, i, 0)
    if (systemName === 'mindsync') await writer.docSync.flush()
    else if (i % 1000 === 999) await new Promise((r) => setImmediate(r))
  }
  const writtenLocally = performance.now()
  if (observed) await observed
  else await writer.settled()
  const writeMs = performance.now() - writeStart
  const snapshot = systemName === 'mindsync' ? await system.snapshot?.(writer) : undefined
  if (observer) {
    await observer.close()
    devices.pop()
  }

  await sleep(500)
  await server('gc')
  const before = await server('stats')
  await server('sampleStart', { everyMs: 10 })

  const fresh = newDevice(system)
  devices.push(fresh)
  await fresh.prepare()
  await startWindow(server)
  const cpu0 = cpuUs()
  const t0 = performance.now()
  const complete = whenComplete(fresh.ydoc, entries)
  const connected = fresh.connect()
  const timer = new Promise((_, reject) => setTimeout(() => reject(new Error(`${systemName}: new device not complete after ${timeoutMs} ms`)), timeoutMs).unref())
  const t1 = await Promise.race([complete, timer])
  const clientCpuMs = (cpuUs() - cpu0) / 1000
  await stopWindow(server)
  await connected
  const peak = await server('sampleStop')
  const after = await server('stats')

  const equal = sameBytes(Y.encodeStateVector(fresh.ydoc), Y.encodeStateVector(writer.ydoc)) && fresh.ydoc.getMap(MAP).size === entries
  if (!equal) {
    await closeAll(devices)
    throw new Error(`${systemName}: the new device's doc differs from the writer's`)
  }
  const figures = {
    entries,
    ms: Math.round(t1 - t0),
    bytes: fresh.traffic.in + fresh.traffic.out,
    bytesIn: fresh.traffic.in,
    messagesIn: fresh.traffic.messagesIn,
    clientCpuMs: Math.round(clientCpuMs),
    relayCpuMs: Math.round((after.cpuUs - before.cpuUs) / 1000),
    relayRssBeforeMB: round(before.rssMB, 1),
    relayPeakRssMB: round(peak.peakRssMB, 1),
    relayHeapBeforeMB: round(before.heapMB, 1),
    relayPeakHeapMB: round(peak.peakHeapMB, 1),
    writeJournalMs: Math.round(writeMs),
    writeLocalMs: Math.round(writtenLocally - writeStart),
  }
  if (systemName === 'mindsync') Object.assign(figures, await system.envelopeKinds(fresh), { snapshotWritten: snapshot ?? 'none' })
  await closeAll(devices)
  return figures
}

const round = (x, digits) => Math.round(x * 10 ** digits) / 10 ** digits
