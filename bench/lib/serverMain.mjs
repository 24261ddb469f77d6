// A child process that runs one server and reports its own RSS and CPU time over IPC.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rpc } from './ipc.mjs'

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

const channel = rpc(process)
channel.serve({
  async start({ system }) {
    dir = mkdtempSync(join(tmpdir(), `bench-${system}-`))
    const mod = await import(modules[system])
    server = await mod.start({ dir })
    return { url: server.url, port: server.port, pid: process.pid, dir }
  },
  stats() {
    return { rssMB: mb(process.memoryUsage.rss()), heapMB: mb(process.memoryUsage().heapUsed), cpuUs: cpuUs(), server: server?.stats?.() }
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
    clearInterval(sampler)
    sampler = setInterval(() => {
      const r = process.memoryUsage.rss()
      if (r > peak) peak = r
    }, everyMs)
    return { rssMB: mb(peak) }
  },
  sampleStop() {
    clearInterval(sampler)
    const r = process.memoryUsage.rss()
    if (r > peak) peak = r
    return { peakRssMB: mb(peak), rssMB: mb(r) }
  },
  async stop() {
    clearInterval(sampler)
    await server?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
    setImmediate(() => process.exit(0))
    return true
  },
})
process.send({ kind: 'ready' })
