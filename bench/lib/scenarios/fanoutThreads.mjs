// Fan-out at a fixed rate with every device in a thread of its own (lib/deviceThread.mjs): the
// same workload and figures as fanout.mjs's 'fixed' mode, but a delivery waits only for its own
// device's work, not for the other devices sharing one event loop and one heap.
import { Worker } from 'node:worker_threads'
import { cpuUs, sleep } from '../devices.mjs'
import { portEndpoint, rpc } from '../ipc.mjs'
import { systems } from '../systems/index.mjs'
import { latencyFigures, round, slowest, trafficFigures, windowFigures } from '../fanoutFigures.mjs'

const threadScript = new URL('../deviceThread.mjs', import.meta.url)

export async function fanoutThreads({ systemName, url, room, server, n, rate = 1000, warmupMs, durationMs, drainMs = 60_000 }) {
  const clockBase = process.hrtime.bigint()
  const clock = () => Number(process.hrtime.bigint() - clockBase) / 1e6
  const intervalMs = 1000 / rate
  const total = Math.round(((warmupMs + durationMs) * rate) / 1000)
  const perWriter = Math.ceil(total / n)
  const sent = new SharedArrayBuffer(8 * n * perWriter)
  const threads = []
  for (let index = 0; index < n; index++) {
    const worker = new Worker(threadScript, { workerData: { system: systemName, url, room, index, n, clockBase: String(clockBase), sent, perWriter } })
    const ready = new Promise((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    // Later, a thread that throws exits: rpc() then fails its pending calls with the exit code.
    worker.on('error', (e) => console.error(`device thread ${index}: ${e.stack ?? e}`))
    const link = rpc(portEndpoint(worker))
    // A device joining a vault asks the first device to accept its pairing offer.
    link.serve({ admit: (code) => threads[0].link.call('admit', code) })
    threads.push({ worker, link, ready })
  }
  const all = (method, params) => Promise.all(threads.map((t) => t.link.call(method, params)))
  try {
    await Promise.all(threads.map((t) => t.ready))
    // The first device alone (for mindsync it creates the vault), the others pair one at a time.
    await threads[0].link.call('prepare')
    await threads[0].link.call('connect')
    for (const t of threads.slice(1)) await t.link.call('prepare')
    await Promise.all(threads.slice(1).map((t) => t.link.call('connect')))
    await sleep(200)

    const startAt = clock() + 50
    const warmAt = startAt + warmupMs
    const endAt = warmAt + durationMs
    await all('start', { startAt, intervalMs, total, warmAt, endAt })
    const snap = async () => ({ t: clock(), cpu: cpuUs(), faults: process.resourceUsage().minorPageFault, deliveries: (await all('deliveries')).reduce((x, y) => x + y, 0), server: await server('stats') })
    await sleep(Math.max(0, warmAt - clock()))
    const a = await snap()
    await server('pausesStart')
    await sleep(Math.max(0, endAt - clock()))
    const b = await snap()
    const relayPauses = await server('pausesStop')

    // Entry k is writer k mod n's: every device must receive all the others wrote.
    const writtenBy = (w) => (w < total ? Math.floor((total - 1 - w) / n) + 1 : 0)
    const expected = (r) => total - writtenBy(r)
    const reports = await Promise.all(threads.map((t, r) => t.link.call('finish', { expected: expected(r), drainMs })))
    const missing = reports.reduce((m, x, r) => m + expected(r) - x.deliveries, 0)
    if (missing !== 0) throw new Error(`${systemName} threaded fan-out: ${missing} deliveries missing after ${drainMs} ms, e.g. ${JSON.stringify(reports.flatMap((x) => x.missing).slice(0, 3))}`)
    const figures = { devices: n, layout: 'a thread per device', writtenTotal: total, deliveriesTotal: total * (n - 1), duplicates: reports.reduce((s, x) => s + x.duplicates, 0) }
    if (reports[0].doc) {
      const sealed = reports.reduce((s, x) => s + x.sealed, 0)
      const sys = systems[systemName]({ url, room })
      Object.assign(figures, await sys.compareStored(sealed, reports[0].doc, server))
      figures.entriesPerEnvelope = round(total / sealed, 1)
    }
    const c = await server('stats')

    const p = reports.map((x) => x.pauses)
    const sum = (f) => round(p.reduce((s, x) => s + x[f], 0), 1)
    const max = (f) => Math.max(...p.map((x) => x[f]))
    Object.assign(figures, windowFigures(a, b, n), {
      relayRssMB: round(c.rssMB, 1),
      // Summed over the devices' threads, except the longest stall (the longest of any) and the loop's busy share (their mean).
      clientsGcMs: sum('gcMs'),
      clientsGcMaxMs: max('gcMaxMs'),
      clientsMajorGcs: sum('majorGcs'),
      clientsLoopMaxMs: max('loopMaxMs'),
      clientsLoopBusy: round(p.reduce((s, x) => s + x.loopBusy, 0) / n, 2),
      clientsHeapMB: sum('heapMB'),
      clientsArrayBuffersMB: sum('arrayBuffersMB'),
      relayGcMs: relayPauses.gcMs,
      relayMajorGcs: relayPauses.majorGcs,
      relayLoopMaxMs: relayPauses.loopMaxMs,
      relayLoopBusy: relayPauses.loopBusy,
    })
    Object.assign(figures, trafficFigures(reports.map((x) => x.traffic), total))
    if (c.server?.commits !== undefined) figures.relayCommits = c.server.commits
    const list = []
    const author = []
    for (const x of reports) {
      for (let i = 0; i < x.latencies.length; i++) {
        list.push(x.latencies[i])
        author.push(x.author[i])
      }
    }
    figures.rate = rate
    Object.assign(figures, latencyFigures(list))
    Object.assign(figures, slowest({ list, author }, figures.p99Ms))
    figures.deliveredPerSec = Math.round((b.deliveries - a.deliveries) / figures.windowSec)
    return figures
  } finally {
    await Promise.all(threads.map((t) => t.link.call('close').catch(() => {})))
    await Promise.all(threads.map((t) => t.worker.terminate()))
  }
}

