// Opening many devices of one system: the first one alone (for mindsync it creates the vault
// and pairs the others), the rest a few at a time.
import * as Y from 'yjs'
import { countingWebSocket } from './countingSocket.mjs'

/** `store(i)`, when given, makes device i's local store (mindsync only). */
export async function openDevices(system, n, { concurrency = 10, options, store } = {}) {
  let made = 0
  const make = () => {
    const doc = new Y.Doc()
    const { traffic, WebSocket } = countingWebSocket()
    const d = system.device(doc, { WebSocket, options, store: store?.(made++) })
    d.traffic = traffic
    return d
  }
  const first = make()
  await first.prepare()
  await first.connect()
  const devices = [first]
  // Pairing goes through the first device one at a time; connecting runs a few at a time.
  const rest = []
  for (let i = 1; i < n; i++) {
    const d = make()
    await d.prepare()
    rest.push(d)
  }
  for (let i = 0; i < rest.length; i += concurrency) await Promise.all(rest.slice(i, i + concurrency).map((d) => d.connect()))
  devices.push(...rest)
  return devices
}

export async function closeAll(devices) {
  for (const d of devices) {
    try {
      await d.close()
    } catch {}
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** CPU time of this process in microseconds. */
export const cpuUs = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}
