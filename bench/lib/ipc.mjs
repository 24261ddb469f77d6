// Request/response over a child process's IPC channel, in both directions.
import { fork } from 'node:child_process'

/**
 * Wraps an IPC endpoint (a ChildProcess or `process` inside a child):
 * `call(method, params)` sends a request and resolves with the answer;
 * `serve(handlers)` answers requests from the other side.
 */
export function rpc(endpoint) {
  let nextId = 1
  const waiting = new Map()
  let handlers = {}
  endpoint.on('message', async (msg) => {
    if (!msg || typeof msg !== 'object') return
    if (msg.kind === 'res') {
      const w = waiting.get(msg.id)
      if (!w) return
      waiting.delete(msg.id)
      if (msg.error) w.reject(Object.assign(new Error(msg.error), { stack: msg.stack }))
      else w.resolve(msg.result)
      return
    }
    if (msg.kind !== 'req') return
    const fn = handlers[msg.method]
    try {
      if (!fn) throw new Error(`no handler for ${msg.method}`)
      const result = await fn(msg.params)
      if (endpoint.connected) endpoint.send({ kind: 'res', id: msg.id, result })
    } catch (e) {
      if (endpoint.connected) endpoint.send({ kind: 'res', id: msg.id, error: String(e?.message ?? e), stack: e?.stack })
    }
  })
  const failAll = (why) => {
    for (const w of waiting.values()) w.reject(new Error(why))
    waiting.clear()
  }
  endpoint.on('exit', (code, signal) => failAll(`process exited (${code ?? signal})`))
  endpoint.on('disconnect', () => failAll('IPC channel closed'))
  return {
    call(method, params) {
      return new Promise((resolve, reject) => {
        if (!endpoint.connected) return reject(new Error(`cannot call ${method}: the process is gone`))
        const id = nextId++
        waiting.set(id, { resolve, reject })
        endpoint.send({ kind: 'req', id, method, params }, (err) => {
          if (!err) return
          waiting.delete(id)
          reject(err)
        })
      })
    },
    serve(h) {
      handlers = h
    },
  }
}

/** Starts `script` as a child with IPC; stdout/stderr are passed through with a prefix. */
export function spawnChild(script, { args = [], execArgv = [], label, role, profileDir }) {
  const env = { ...process.env }
  if (role) env.BENCH_ROLE = role
  if (profileDir) env.BENCH_PROFILE_DIR = profileDir
  else delete env.BENCH_PROFILE_DIR
  const child = fork(script, args, { execArgv, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  const prefix = (stream, out) => {
    let rest = ''
    stream.on('data', (chunk) => {
      rest += chunk.toString('utf8')
      const lines = rest.split('\n')
      rest = lines.pop()
      for (const line of lines) out.write(`  [${label}] ${line}\n`)
    })
  }
  prefix(child.stdout, process.stdout)
  prefix(child.stderr, process.stderr)
  child.on('error', (e) => process.stderr.write(`  [${label}] ${e.message}\n`))
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  return { child, rpc: rpc(child), exited, pid: child.pid }
}

/** A worker thread's port (or a Worker, from its parent) as an endpoint rpc() can wrap. */
export function portEndpoint(port) {
  let open = true
  port.on('close', () => (open = false))
  port.on('exit', () => (open = false))
  return {
    on: (event, f) => port.on(event === 'disconnect' ? 'close' : event, f),
    send(msg, done) {
      port.postMessage(msg)
      done?.()
    },
    get connected() {
      return open
    },
  }
}
