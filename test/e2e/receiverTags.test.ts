import { join } from 'node:path'
import { createMemoryStore, createSyncClient, createWebSocketTransport, Scope } from '@mindsync/client'
import type { SyncClient } from '@mindsync/client'
import { toHex } from '@mindsync/crypto'
import { EnvelopeKind, decodeEnvelope, decodeFrame, envelopeTags } from '@mindsync/protocol'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { NodeWebSocket, relayRows, startRelay, tempDir } from '../helpers.js'
import type { RelayProcess } from '../helpers.js'
import { until } from '../harness/devices.js'

type Listener = ((ev: { data: unknown }) => void) | null

/** The `ws` WebSocket, with every frame it receives also handed to `tap`. */
function tappedWebSocket(tap: (frame: Uint8Array) => void): unknown {
  const Base = NodeWebSocket as new (url: string, ...rest: unknown[]) => object
  return class extends Base {
    // ws's own onmessage accessor, called with this socket as the receiver.
    set onmessage(fn: Listener) {
      const wrapped: Listener = fn && ((ev) => {
        const d = ev.data as Uint8Array
        tap(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))
        fn(ev)
      })
      Reflect.set(Base.prototype, 'onmessage', wrapped, this)
    }
    get onmessage(): Listener {
      return Reflect.get(Base.prototype, 'onmessage', this) as Listener
    }
  }
}

/** Every update envelope in the frames, decoded. */
function updatesIn(frames: Uint8Array[]) {
  return frames
    .flatMap((f) => decodeFrame(f))
    .flatMap((m) => (m.type === 'envelopes' ? m.items : []))
    .map((it) => decodeEnvelope(it.envelope))
    .filter((env) => env.header.kind === EnvelopeKind.update)
}

describe('receiver tags through a real relay', () => {
  it('[RT1] each device receives an envelope with only its own tag, live and in catch-up; the relay stores every tag; all converge', async () => {
    const tmp = tempDir()
    const db = join(tmp.dir, 'relay.db')
    const relay = await startRelay(db)
    const clients: SyncClient[] = []
    try {
      await threeWritersAndALateReader(relay, db, clients)
    } finally {
      for (const c of clients) await c.close()
      await relay.stop()
      tmp.cleanup()
    }
  })
})

interface Device {
  name: string
  client: SyncClient
  doc: Y.Doc
  /** Every frame the relay sent it. */
  frames: Uint8Array[]
}

async function threeWritersAndALateReader(relay: RelayProcess, db: string, clients: SyncClient[]): Promise<void> {
  const make = async (name: string): Promise<Device> => {
    const frames: Uint8Array[] = []
    const WebSocket = tappedWebSocket((f) => frames.push(f.slice()))
    const client = await createSyncClient({ store: createMemoryStore(), transport: createWebSocketTransport({ WebSocket }), url: relay.url, name })
    clients.push(client)
    return { name, client, doc: new Y.Doc(), frames }
  }
  const phone = await make('phone')
  await phone.client.createVault()
  await phone.client.syncOnce()
  const all = [phone, await make('laptop'), await make('watch'), await make('tablet')]
  for (const d of all.slice(1)) {
    await phone.client.acceptPairing(await d.client.createPairingOffer(), Scope.read | Scope.write)
    await d.client.syncOnce()
  }
  for (const d of all) await d.client.bind('journal', d.doc)
  const entries = (d: Device): number => d.doc.getMap('journal').size

  // Phone, laptop and watch are online (live fan-out); the tablet comes later (catch-up from storage).
  const writers = all.slice(0, 3)
  const tablet = all[3] as Device
  for (const d of writers) d.client.connect()
  await until('three devices online', () => writers.every((d) => d.client.status === 'online'))
  for (let k = 0; k < 5; k++) {
    for (const [i, d] of writers.entries()) d.doc.getMap('journal').set(`${i}-${k}`, `entry ${k} of device ${i}`)
    await new Promise((r) => setTimeout(r, 20)) // one envelope per entry
  }
  await until('the three online devices hold all 15 entries', () => writers.every((d) => entries(d) === 15))
  tablet.client.connect()
  await until('the tablet caught up', () => entries(tablet) === 15)

  const stored = relayRows(db).filter((r) => r.kind === EnvelopeKind.update)
  expect(stored.length).toBeGreaterThanOrEqual(3)
  const prefixOf = (d: Device): string => d.client.deviceId.slice(0, 8)
  for (const d of all) {
    const fromOthers = updatesIn(d.frames).filter((env) => toHex(env.header.deviceId) !== d.client.deviceId)
    // Every other writer's envelope, once (the tablet wrote none of its own).
    const distinct = new Set(fromOthers.map((env) => `${toHex(env.header.deviceId)}:${env.header.seq}`))
    expect(distinct.size, `${d.name} received the other writers' envelopes`).toBe(stored.filter((r) => r.deviceId !== d.client.deviceId).length)
    for (const env of fromOthers) expect(envelopeTags(env).map((t) => toHex(t.to))).toEqual([prefixOf(d)])
  }
  // The relay keeps each envelope as pushed: a tag for each of the three other members.
  for (const r of stored) {
    const to = envelopeTags(decodeEnvelope(r.bytes)).map((t) => toHex(t.to))
    expect(to.sort()).toEqual(all.filter((d) => d.client.deviceId !== r.deviceId).map(prefixOf).sort())
  }
  for (const d of all) expect(d.doc.getMap('journal').toJSON()).toEqual(phone.doc.getMap('journal').toJSON())
  for (const d of all) expect(d.client.alerts()).toEqual([])
}
