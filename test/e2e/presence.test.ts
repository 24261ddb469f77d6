import { join } from 'node:path'
import { createMemoryStore, createSyncClient, createWebSocketTransport, Scope } from '@mindsync/client'
import type { SyncClient } from '@mindsync/client'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { NodeWebSocket, relayRows, startRelay, tempDir } from '../helpers.js'
import type { RelayProcess } from '../helpers.js'
import { findPlaintext } from '../plaintext.js'

const MARKER = 'presence-marker-meditating-on-the-watch-7c1f'

describe('presence', () => {
  const tmp = tempDir()
  let relay: RelayProcess
  const clients: SyncClient[] = []
  afterAll(async () => {
    for (const c of clients) await c.close()
    await relay?.stop()
    tmp.cleanup()
  })

  it('[P1] presence reaches the other online devices and never appears in the relay storage', async () => {
    relay = await startRelay(join(tmp.dir, 'relay.db'))
    const make = async (name: string): Promise<SyncClient> => {
      const c = await createSyncClient({ store: createMemoryStore(), transport: createWebSocketTransport({ WebSocket: NodeWebSocket }), url: relay.url, name })
      clients.push(c)
      return c
    }
    const watch = await make('watch')
    await watch.createVault()
    await watch.syncOnce()
    const laptop = await make('laptop')
    await watch.acceptPairing(await laptop.createPairingOffer(), Scope.read | Scope.write)
    await laptop.syncOnce()
    for (const c of [watch, laptop]) await c.bind('journal', new Y.Doc())

    const seen = new Promise<unknown>((resolve) => {
      const awareness = laptop.presence('journal')
      awareness.on('change', () => {
        for (const [id, state] of awareness.getStates()) if (id !== awareness.clientID && state.activity) resolve(state.activity)
      })
    })
    const online = (c: SyncClient): Promise<void> => new Promise((resolve) => c.on('status', ({ status }) => status === 'online' && resolve()))
    const bothOnline = Promise.all([online(watch), online(laptop)])
    watch.connect()
    laptop.connect()
    await bothOnline
    watch.presence('journal').setLocalStateField('activity', MARKER)
    expect(await seen).toBe(MARKER)

    // Never stored: no awareness rows (kind 4), and the marker is nowhere in the relay's files.
    const rows = relayRows(relay.db)
    expect(rows.filter((r) => r.kind === 4)).toEqual([])
    expect(findPlaintext([relay.db, `${relay.db}-wal`, `${relay.db}-shm`], [MARKER])).toEqual([])
  }, 30_000)

  it('[P2] a device that starts presence later learns the state another device set before it listened', async () => {
    const [watch, laptop] = clients as [SyncClient, SyncClient]
    const late = await createSyncClient({ store: createMemoryStore(), transport: createWebSocketTransport({ WebSocket: NodeWebSocket }), url: relay.url, name: 'phone' })
    clients.push(late)
    await watch.acceptPairing(await late.createPairingOffer(), Scope.read | Scope.write)
    await late.syncOnce()
    await late.bind('journal', new Y.Doc())
    const online = new Promise<void>((resolve) => late.on('status', ({ status }) => status === 'online' && resolve()))
    late.connect()
    await online
    // The watch set its state in [P1], long before the phone listened; nothing renews it for 15 s.
    const awareness = late.presence('journal')
    const seen = new Promise<unknown>((resolve) => {
      awareness.on('change', () => {
        for (const [id, state] of awareness.getStates()) if (id !== awareness.clientID && state.activity === MARKER) resolve(state.activity)
      })
    })
    awareness.setLocalStateField('activity', 'joining')
    expect(await Promise.race([seen, new Promise((r) => setTimeout(() => r('not within 5 s'), 5_000))])).toBe(MARKER)
    expect(laptop.presence('journal').getStates().size).toBeGreaterThanOrEqual(2)
  }, 30_000)
})
