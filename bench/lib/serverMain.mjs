// A child process that runs one server and reports its own RSS and CPU time over IPC.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rpc } from './ipc.mjs'
import { startPauses, stopPauses } from './pauses.mjs'
import { startProfile, stopProfile } from './profiler.mjs'

const modules = {
  mindsync: './servers/mindsync.mjs',
  'y-websocket': './servers/yWebsocket.mjs',
  hocuspocus: './servers/hocuspocus.mjs',
  'raw-ws': './servers/rawWs.mjs',
}

const mb = (bytes) => bytes / 2 ** 20
const cpuUs = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}

let server
let dir
let sampler
let peak = 0
let peakHeap = 0

const channel = rpc(process)
channel.serve({
  async start({ system }) {
    dir = mkdtempSync(join(tmpdir(), `bench-${system}-`))
    const mod = await import(modules[system])
    server = await mod.start({ dir })
    return { url: server.url, port: server.port, pid: process.pid, dir }
  },
  stats() {
    const m = process.memoryUsage()
    return {
      rssMB: mb(m.rss),
      heapMB: mb(m.heapUsed),
      heapTotalMB: mb(m.heapTotal),
      externalMB: mb(m.external),
      cpuUs: cpuUs(),
      // Sockets, servers and timers the process holds open (e.g. idle HTTP keep-alive sockets).
      handles: process._getActiveHandles().length,
      server: server?.stats?.(),
    }
  },
  async call({ method, params }) {
    const fn = server?.calls?.[method]
    if (!fn) throw new Error(`this server has no ${method}`)
    return fn(params)
  },
  gc() {
    globalThis.gc?.()
    globalThis.gc?.()
    return { rssMB: mb(process.memoryUsage.rss()) }
  },
  sampleStart({ everyMs = 20 } = {}) {
    peak = process.memoryUsage.rss()
    peakHeap = process.memoryUsage().heapUsed
    clearInterval(sampler)
    let n = 0
    sampler = setInterval(() => {
      const r = process.memoryUsage.rss()
      if (r > peak) peak = r
      // heapUsed walks the heap spaces: sample it less often.
      if (++n % 5 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
    }, everyMs)
    return { rssMB: mb(peak) }
  },
  sampleStop() {
    clearInterval(sampler)
    const r = process.memoryUsage.rss()
    if (r > peak) peak = r
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
    return { peakRssMB: mb(peak), peakHeapMB: mb(peakHeap), rssMB: mb(r) }
  },
  pausesStart: () => startPauses(),
  pausesStop: () => stopPauses(),
  profileStart: () => startProfile(),
  profileStop: () => stopProfile('server'),
  async stop() {
    clearInterval(sampler)
    await server?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
    setImmediate(() => process.exit(0))
    return true
  },
})
// Never outlive the run that started this process.
process.on('disconnect', () => process.exit(0))
process.send({ kind: 'ready' })
