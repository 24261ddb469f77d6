// A child process that runs the devices of one scenario against one server and reports figures.
import { rpc } from './ipc.mjs'
import { clientCost } from './scenarios/clientCost.mjs'
import { fanout } from './scenarios/fanout.mjs'
import { fanoutThreads } from './scenarios/fanoutThreads.mjs'
import { idle } from './scenarios/idle.mjs'
import { initialSync } from './scenarios/initialSync.mjs'
import { systems } from './systems/index.mjs'

// y-websocket providers each add a process 'exit' listener; dozens of devices are expected here.
process.setMaxListeners(0)

const kinds = { fanout, fanoutThreads, initialSync, idle, clientCost }

const parent = rpc(process)
parent.serve({
  async run({ kind, system, url, room, params }) {
    const server = (method, p) => parent.call('server', { method, params: p })
    const makeSystem = (r) => systems[system]({ url, room: r })
    const sys = system && url ? makeSystem(room ?? kind) : undefined
    return kinds[kind]({ ...params, system: sys, makeSystem, systemName: system, server, url, room: room ?? kind })
  },
  exit() {
    setImmediate(() => process.exit(0))
    return true
  },
})
// Never outlive the run that started this process.
process.on('disconnect', () => process.exit(0))
process.send({ kind: 'ready' })
