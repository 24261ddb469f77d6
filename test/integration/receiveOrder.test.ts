import { createMemoryStore, createSyncClient } from '@mindsync/client'
import type { LocalStore } from '@mindsync/client'
import { createJournal } from '@mindsync/practice'
import { EnvelopeKind, decodeEnvelope } from '@mindsync/protocol'
import { createMemoryRelayStorage, createRelayCore, silentLog } from '@mindsync/relay'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createCoreTransport } from '../harness/coreTransport.js'
import { admit, founder, online, until, write } from '../harness/devices.js'

/**
 * A memory store whose writes of received envelopes can be held (a disk
 * sync that takes its time) or made to fail (a full disk), and whose next
 * write of an own envelope can fail too.
 */
function slowStore(): { store: LocalStore; hold(): void; release(): void; failNext(): void; failNextLocal(): void; reopen(): LocalStore; closed(): boolean } {
  const inner = createMemoryStore()
  let held: Promise<void> | undefined
  let release = (): void => {}
  let fail = false
  let failLocal = false
  let closed = false
  const store: LocalStore = {
    ...inner,
    async addLocal(docId, item) {
      if (failLocal) {
        failLocal = false
        throw new Error('disk full')
      }
      return inner.addLocal(docId, item)
    },
    async addReceived(docId, items, cursor) {
      if (fail) {
        fail = false
        throw new Error('disk full')
      }
      await held
      // As a real store does once closed (the memory store's close does nothing).
      if (closed) throw new Error('store closed')
      return inner.addReceived(docId, items, cursor)
    },
    async close() {
      closed = true
    },
  }
  return {
    store,
    hold() {
      held = new Promise((resolve) => {
        release = resolve
      })
    },
    release: () => release(),
    failNext() {
      fail = true
    },
    failNextLocal() {
      failLocal = true
    },
    closed: () => closed,
    /** The same data, open again (an app started again). */
    reopen() {
      closed = false
      return store
    },
  }
}

/**
 * A phone and a laptop on the slow store, online, after the laptop received and stored one entry;
 * `commitDelayMs` is the relay's group-commit window, `reconnect` the laptop's backoff.
 */
async function pair(options: { commitDelayMs?: number; reconnect?: { minMs: number; maxMs: number } } = {}) {
  const transport = createCoreTransport(createRelayCore({ storage: createMemoryRelayStorage(), log: silentLog, commitDelayMs: options.commitDelayMs }))
  const disk = slowStore()
  const phone = await founder('phone', transport)
  const laptop = await admit(phone, 'laptop', transport, undefined, { store: disk.store, reconnect: options.reconnect })
  await online(phone)
  await online(laptop)
  await write(phone, 'first')
  await until('laptop has the first entry', () => laptop.journal!.sessions().some((s) => s.note === 'first'))
  await until('laptop stored it', async () => (await disk.store.getCursor(laptop.doc!.key)) > 0)
  return { transport, disk, phone, laptop, cursor: await disk.store.getCursor(laptop.doc!.key) }
}

/** The phone writes `note` while the laptop's store fails its next write of received envelopes; resolves once the failure is reported. */
async function failedReceive({ disk, phone, laptop }: Awaited<ReturnType<typeof pair>>, note: string): Promise<{ fromPhone(key?: string): Promise<number[]>; held: number[]; rejected: string[] }> {
  const fromPhone = async (key = laptop.doc!.key): Promise<number[]> =>
    (await disk.store.listEnvelopes(key)).filter((e) => e.author === phone.client.deviceId).map((e) => e.seq)
  const held = await fromPhone()
  const rejected: string[] = []
  laptop.client.on('rejected', (e) => rejected.push(e.code))
  disk.failNext()
  await write(phone, note)
  await until('the failed write is reported', () => rejected.includes('E_INTERNAL'))
  expect(laptop.journal!.sessions().some((s) => s.note === note)).toBe(true)
  return { fromPhone, held, rejected }
}

describe('received envelopes are shown before they are stored', () => {
  it('[RO1] a received entry is in the doc while the store is still writing it; the cursor moves only once the write is done', async () => {
    const { disk, phone, laptop, cursor } = await pair()
    const held = (await disk.store.listEnvelopes(laptop.doc!.key)).length

    disk.hold()
    await write(phone, 'second')
    await until('laptop shows the second entry while its store is held', () => laptop.journal!.sessions().some((s) => s.note === 'second'))
    expect(await disk.store.getCursor(laptop.doc!.key)).toBe(cursor)
    expect((await disk.store.listEnvelopes(laptop.doc!.key)).length).toBe(held)

    disk.release()
    await until('laptop stored the second entry', async () => (await disk.store.listEnvelopes(laptop.doc!.key)).length === held + 1)
    await until('and moved its cursor', async () => (await disk.store.getCursor(laptop.doc!.key)) > cursor)
    await phone.client.close()
    await laptop.client.close()
  })

  it("[RO3] 'synced' comes only once the store holds what was shown, and close() lets a held write finish", async () => {
    const { disk, phone, laptop, cursor } = await pair()
    const held = (await disk.store.listEnvelopes(laptop.doc!.key)).length
    const shows = (note: string) => laptop.journal!.sessions().some((s) => s.note === note)
    let synced = 0
    laptop.client.on('synced', () => synced++)

    disk.hold()
    await write(phone, 'second')
    await until('laptop shows the second entry', () => shows('second'))
    await new Promise((r) => setTimeout(r, 30))
    expect(synced).toBe(0)
    disk.release()
    await until("'synced' once it is stored", () => synced > 0)
    expect((await disk.store.listEnvelopes(laptop.doc!.key)).length).toBe(held + 1)
    // The relay's stored marker for it is written too before the next hold (it would wait behind it).
    await until('the cursor passed the second entry', async () => (await disk.store.getCursor(laptop.doc!.key)) > cursor)

    disk.hold()
    await write(phone, 'third')
    await until('laptop shows the third entry', () => shows('third'))
    let done = false
    const closing = laptop.client.close().then(() => (done = true))
    await new Promise((r) => setTimeout(r, 30))
    expect(done).toBe(false)
    disk.release()
    await closing
    expect((await disk.store.listEnvelopes(laptop.doc!.key)).length).toBe(held + 2)
    await phone.client.close()
  })

  it('[RO4] when the write fails, the same client stores the entry once it is served again (it is then a duplicate), and is not synced before', async () => {
    const devices = await pair()
    const { disk, phone, laptop, cursor } = devices
    const { fromPhone, held, rejected } = await failedReceive(devices, 'second')
    // The client reconnects by itself; the relay serves the entry again from the cursor.
    await until('the entry is stored without a restart', async () => (await fromPhone()).length === held.length + 1)
    await until('and the cursor moved past it', async () => (await disk.store.getCursor(laptop.doc!.key)) > cursor)
    expect((await fromPhone()).slice(0, held.length)).toEqual(held)

    // A failed write also holds 'synced' (and a sync) until the entries are stored.
    let synced = 0
    laptop.client.on('synced', () => synced++)
    disk.failNext()
    await write(phone, 'third')
    await until('the second failure is reported', () => rejected.filter((c) => c === 'E_INTERNAL').length === 2)
    expect(laptop.doc!.unsettled()).toMatch(/not stored yet|not caught up/)
    await until('stored after the reconnect', async () => (await fromPhone()).length === held.length + 2)
    const statuses: string[] = []
    laptop.client.on('status', (e) => statuses.push(e.status))
    await until("'synced' once it is stored", () => synced > 0).catch((e: Error) => {
      throw new Error(`${e.message} (status ${laptop.client.status}, since: ${statuses.join(' ')}; ${laptop.doc!.unsettled() || 'settled'})`)
    })
    expect(laptop.client.alerts()).toEqual([])
    await phone.client.close()
    await laptop.client.close()
  })

  it("[RO8] 'synced' comes once a failed write is stored, also when the relay stores the entry only after the device is back and caught up", async () => {
    // The relay stores a push 500 ms after it fans it out; the laptop is back well before.
    const devices = await pair({ commitDelayMs: 500, reconnect: { minMs: 10, maxMs: 20 } })
    const { laptop } = devices
    const { fromPhone, held } = await failedReceive(devices, 'second')
    let synced = 0
    laptop.client.on('synced', () => synced++)
    await until('the entry is stored', async () => (await fromPhone()).length === held.length + 1)
    await until("'synced' once it is stored", () => synced > 0)
    expect(laptop.doc!.unsettled()).toBe('')
    await devices.phone.client.close()
    await laptop.client.close()
  })

  it('[RO5] a local change whose outbox write fails is reported (or thrown to a flush) and kept, and goes out with the next write', async () => {
    const { disk, phone, laptop } = await pair()
    const rejected: { origin: string; code: string; message: string }[] = []
    laptop.client.on('rejected', (e) => rejected.push(e))
    const shows = (note: string) => phone.journal!.sessions().some((s) => s.note === note)

    // Sealed after the turn, with nobody awaiting it: reported.
    disk.failNextLocal()
    laptop.journal!.logSession({ minutes: 5, note: 'kept' })
    await until('the failed write is reported', () => rejected.length > 0)
    expect(rejected[0]).toMatchObject({ origin: 'local', code: 'E_INTERNAL' })
    expect(rejected[0]!.message).toMatch(/kept to try again: disk full/)
    expect(laptop.doc!.outboxSize).toBe(1)

    // Sealed by a flush: the flush rejects.
    disk.failNextLocal()
    await expect(write(laptop, 'also kept')).rejects.toThrow(/disk full/)
    expect(laptop.doc!.outboxSize).toBe(1)
    await new Promise((r) => setTimeout(r, 50))
    expect(shows('kept') || shows('also kept')).toBe(false)

    // The next write seals them all: the phone gets the kept ones too, and nothing is refused or alerted.
    await write(laptop, 'next')
    await until('the phone has all three', () => shows('kept') && shows('also kept') && shows('next'))
    await laptop.client.syncOnce()
    expect(laptop.doc!.outboxSize).toBe(0)
    expect(rejected).toHaveLength(1)
    expect([...laptop.client.alerts(), ...phone.client.alerts()]).toEqual([])
    await phone.client.close()
    await laptop.client.close()
  })

  it('[RO6] close() with a change the store refuses to seal still closes the connection and the store, then rejects with the error', async () => {
    const { disk, phone, laptop } = await pair()
    disk.failNextLocal()
    laptop.journal!.logSession({ minutes: 5, note: 'unsealed' })
    await expect(laptop.client.close()).rejects.toThrow(/disk full/)
    expect(disk.closed()).toBe(true)
    expect(laptop.client.status).toBe('offline')
    await phone.client.close()
  })

  it('[RO7] a received snapshot whose write failed still drops what it covers from the store once it is stored', async () => {
    const { disk, phone, laptop } = await pair()
    await write(phone, 'second')
    const phoneRows = async () =>
      (await disk.store.listEnvelopes(laptop.doc!.key))
        .filter((e) => e.author === phone.client.deviceId)
        .map((e) => ({ seq: e.seq, snapshot: decodeEnvelope(e.envelope).header.kind === EnvelopeKind.snapshot }))
    await until('laptop stored both entries', async () => (await phoneRows()).length === 2)
    // Acknowledged, so the phone's snapshot covers both.
    await phone.client.syncOnce()
    const rejected: string[] = []
    laptop.client.on('rejected', (e) => rejected.push(e.code))

    disk.failNext()
    expect(await phone.client.snapshot()).toBe(true)
    await until('the failed write is reported', () => rejected.includes('E_INTERNAL'))
    await until('the snapshot is stored and what it covers dropped', async () => {
      const rows = await phoneRows()
      return rows.length === 1 && rows[0]!.snapshot
    })
    expect(laptop.journal!.sessions().map((s) => s.note).sort()).toEqual(['first', 'second'])
    expect(laptop.client.alerts()).toEqual([])
    await phone.client.close()
    await laptop.client.close()
  })

  it('[RO2] when the write fails, the cursor stays where it was, and the device fetches the entry again on its next start and stores it', async () => {
    const devices = await pair()
    const { transport, disk, phone, laptop, cursor } = devices
    const { fromPhone, held } = await failedReceive(devices, 'second')
    expect(await disk.store.getCursor(laptop.doc!.key)).toBe(cursor)
    expect(await fromPhone(laptop.doc!.key)).toEqual(held)
    await laptop.client.close()

    // The app starts again on the same store: the entry comes back from the relay and is stored.
    const again = await createSyncClient({ store: disk.reopen(), transport, url: 'mem://relay', batchMs: 0 })
    const doc = new Y.Doc()
    const docSync = await again.bind('journal', doc)
    await again.syncOnce()
    const now = await fromPhone(docSync.key)
    expect(now.length).toBe(held.length + 1)
    expect(now.slice(0, held.length)).toEqual(held)
    expect(await disk.store.getCursor(docSync.key)).toBeGreaterThan(cursor)
    expect(again.alerts()).toEqual([])
    expect(createJournal(doc, { device: again.deviceId }).sessions().map((s) => s.note).sort()).toEqual(['first', 'second'])
    await again.close()
    await phone.client.close()
  })
})
