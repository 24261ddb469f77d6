import { join } from 'node:path'
import { createMemoryStore, createSyncClient, createWebSocketTransport, Scope } from '@mindsync/client'
import type { SyncClient } from '@mindsync/client'
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

async function threeWritersAndALateReader(relay: RelayProcess, db: string, clients: SyncClient[]): Promise<void> {
  const frames = new Map<string, Uint8Array[]>()
  const make = async (name: string): Promise<SyncClient> => {
    const seen: Uint8Array[] = []
    frames.set(name, seen)
    const WebSocket = tappedWebSocket((f) => seen.push(f.slice()))
    const c = await createSyncClient({ store: createMemoryStore(), transport: createWebSocketTransport({ WebSocket }), url: relay.url, name })
    clients.push(c)
    return c
  }
  const phone = await make('phone')
  await phone.createVault()
  await phone.syncOnce()
  const others = [await make('laptop'), await make('watch'), await make('tablet')]
  for (const d of others) {
    await phone.acceptPairing(await d.createPairingOffer(), Scope.read | Scope.write)
    await d.syncOnce()
  }
  const all = [phone, ...others]
  const docs = new Map<SyncClient, Y.Doc>()
  for (const c of all) {
    const doc = new Y.Doc()
    docs.set(c, doc)
    await c.bind('journal', doc)
  }
  // Phone, laptop and watch are online (live fan-out); the tablet comes later (catch-up from storage).
  for (const c of all.slice(0, 3)) c.connect()
  await until('three devices online', () => all.slice(0, 3).every((c) => c.status === 'online'))
  for (let k = 0; k < 5; k++) {
    for (const [i, c] of all.slice(0, 3).entries()) docs.get(c)!.getMap('journal').set(`${i}-${k}`, `entry ${k} of device ${i}`)
    await new Promise((r) => setTimeout(r, 20)) // one envelope per entry
  }
  await until('the three online devices hold all 15 entries', () => all.slice(0, 3).every((c) => docs.get(c)!.getMap('journal').size === 15))
  const tablet = others[2] as SyncClient
  tablet.connect()
  await until('the tablet caught up', () => docs.get(tablet)!.getMap('journal').size === 15)

  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
  const stored = relayRows(db).filter((r) => r.kind === EnvelopeKind.update)
  expect(stored.length).toBeGreaterThanOrEqual(3)
  const names = ['phone', 'laptop', 'watch', 'tablet']
  for (const [i, c] of all.entries()) {
    const fromOthers = updatesIn(frames.get(names[i] as string)!).filter((env) => hex(env.header.deviceId) !== c.deviceId)
    // Every other writer's envelope, once (the tablet wrote none of its own).
    const distinct = new Set(fromOthers.map((env) => `${hex(env.header.deviceId)}:${env.header.seq}`))
    expect(distinct.size, `${names[i]} received the other writers' envelopes`).toBe(stored.filter((r) => r.deviceId !== c.deviceId).length)
    for (const env of fromOthers) expect(envelopeTags(env).map((t) => hex(t.to))).toEqual([c.deviceId.slice(0, 8)])
  }
  // The relay keeps each envelope as pushed: a tag for each of the three other members.
  for (const r of stored) {
    const to = envelopeTags(decodeEnvelope(r.bytes)).map((t) => hex(t.to))
    expect(to.sort()).toEqual(all.filter((c) => c.deviceId !== r.deviceId).map((c) => c.deviceId.slice(0, 8)).sort())
  }
  const state = (c: SyncClient) => JSON.stringify(docs.get(c)!.getMap('journal').toJSON(), Object.keys(docs.get(c)!.getMap('journal').toJSON()).sort())
  for (const c of all) expect(state(c)).toBe(state(phone))
  for (const c of all) expect(c.alerts()).toEqual([])
}
