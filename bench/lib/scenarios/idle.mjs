// Idle connections: `connections` devices, each on its own doc (mindsync: its own vault),
// connected, synced and then left alone. The server's RSS (whole process) is read once it has
// stopped falling and after forced GCs; rssBeforeGcMB is the figure before them. V8 gives back
// the young generation it grew during the connection burst only at a collection that finds the
// last seconds' allocation rate low, so collecting right after the burst's tail (the keep-alive
// sockets closing at 5 s) keeps it for some servers and not others: the wait goes on until the
// RSS has not fallen for `stableMs` (at most `maxSettleMs`), as on a relay left idle.
import * as Y from 'yjs'
import { countingWebSocket } from '../countingSocket.mjs'
import { closeAll, sleep } from '../devices.mjs'

export async function idle({ makeSystem, server, connections, concurrency = 25, settleMs = 2000, stableMs = 5000, maxSettleMs = 30_000 }) {
  await server('gc')
  const base = await server('stats')
  const devices = []
  const t0 = performance.now()
  for (let i = 0; i < connections; i += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, connections - i) }, (_, k) => {
      const { WebSocket } = countingWebSocket()
      return makeSystem(`idle-${i + k}`).device(new Y.Doc(), { WebSocket })
    })
    await Promise.all(
      batch.map(async (d) => {
        await d.prepare()
        await d.connect()
      }),
    )
    devices.push(...batch)
  }
  const connectMs = performance.now() - t0
  await sleep(settleMs)
  const firstRss = (await server('stats')).rssMB
  const settleStart = performance.now()
  let low = firstRss
  let lowSince = settleStart
  while (performance.now() - lowSince < stableMs && performance.now() - settleStart < maxSettleMs) {
    await sleep(1000)
    const { rssMB } = await server('stats')
    if (rssMB < low - 1) lowSince = performance.now()
    low = Math.min(low, rssMB)
  }
  const settled = await server('stats')
  // Two full collections a second apart: V8 hands freed pages back to the OS asynchronously.
  const gc = await server('gc')
  await sleep(1000)
  await server('gc')
  await sleep(1000)
  const after = await server('stats')
  await closeAll(devices)
  const round = (x) => Math.round(x * 10) / 10
  return {
    connections,
    rssMB: round(after.rssMB),
    rssBeforeGcMB: round(settled.rssMB),
    rssAfterFixedWaitMB: round(firstRss),
    settledAfterMs: Math.round(settleMs + performance.now() - settleStart),
    baseRssMB: round(base.rssMB),
    perConnectionKB: round(((after.rssMB - base.rssMB) * 1024) / connections),
    heapMB: round(after.heapMB),
    heapTotalMB: round(after.heapTotalMB),
    externalMB: round(after.externalMB),
    handles: after.handles,
    baseHandles: base.handles,
    connectMs: Math.round(connectMs),
    gcRssMB: round(gc.rssMB),
  }
}
