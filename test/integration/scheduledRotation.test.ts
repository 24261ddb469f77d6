import { createMemoryStore, createSyncClient } from '@mindsync/client'
import { createMemoryRelayStorage, createRelayCore, silentLog } from '@mindsync/relay'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createCoreTransport } from '../harness/coreTransport.js'

const DAY = 24 * 60 * 60 * 1000

describe('scheduled rotation', () => {
  it('[K1] an admin device opens a new epoch when the current one is older than rotateAfterMs; others follow; history stays readable', async () => {
    const core = createRelayCore({ storage: createMemoryRelayStorage(), log: silentLog })
    const transport = createCoreTransport(core)
    let now = Date.UTC(2026, 0, 1)
    const clock = (): number => now
    const admin = await createSyncClient({ store: createMemoryStore(), transport, url: 'mem://relay', name: 'phone', now: clock, batchMs: 0 })
    const reader = await createSyncClient({ store: createMemoryStore(), transport, url: 'mem://relay', name: 'watch', now: clock, batchMs: 0 })
    await admin.createVault()
    await admin.syncOnce()
    await admin.acceptPairing(await reader.createPairingOffer(), 1 | 2)
    await reader.syncOnce()
    const doc = new Y.Doc()
    await admin.bind('journal', doc)
    doc.getMap('sessions').set('a', { minutes: 10 })
    await admin.syncOnce()
    expect(admin.membership.requireState().epoch).toBe(0)

    now += 29 * DAY
    await admin.syncOnce()
    expect(admin.membership.requireState().epoch).toBe(0) // not due yet (default: 30 days)

    now += 2 * DAY
    await admin.syncOnce()
    expect(admin.membership.requireState().epoch).toBe(1)
    // A write-only device never rotates; it follows the admin's rotation.
    await reader.syncOnce()
    expect(reader.membership.requireState().epoch).toBe(1)
    expect([...reader.membership.keys.keys()].sort()).toEqual([0, 1])
    const readerDoc = new Y.Doc()
    await reader.bind('journal', readerDoc)
    await reader.syncOnce()
    expect(readerDoc.getMap('sessions').get('a')).toEqual({ minutes: 10 })

    // rotateAfterMs: 0 never rotates.
    const never = await createSyncClient({ store: createMemoryStore(), transport, url: 'mem://relay', now: clock, rotateAfterMs: 0 })
    await never.createVault()
    await never.syncOnce()
    now += 365 * DAY
    await never.syncOnce()
    expect(never.membership.requireState().epoch).toBe(0)
    for (const c of [admin, reader, never]) await c.close()
  })
})
