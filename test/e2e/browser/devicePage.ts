// The page browser.test.ts drives in Chromium: one mindsync device on an
// IndexedDB store, the browser's own WebSocket and the portable crypto
// backend, as a web app would embed it. The test calls `device.*` with
// page.evaluate.
import { createSyncClient, createWebSocketTransport } from '@mindsync/client'
import type { DocSync, SyncClient } from '@mindsync/client'
import { createJournal } from '@mindsync/practice'
import type { Journal } from '@mindsync/practice'
import { createIdbStore } from '@mindsync/store-idb'
import * as Y from 'yjs'

const relay = new URLSearchParams(location.search).get('relay') ?? ''
let client: SyncClient | undefined
let journal: Journal | undefined
let doc: DocSync | undefined
let last: { status: string; code?: string; message?: string } = { status: 'offline' }

const api = {
  /** Opens (or, after a reload, reopens) the device from its IndexedDB database. */
  async open(): Promise<string> {
    client = await createSyncClient({ store: await createIdbStore('mindsync-device'), transport: createWebSocketTransport(), url: relay, name: 'browser', reconnect: { minMs: 20, maxMs: 200 } })
    client.on('status', (e) => {
      last = { status: e.status, code: e.error?.code, message: e.error?.message }
    })
    return client.deviceId
  },
  id: (): string => client!.deviceId,
  offer: (): Promise<string> => client!.createPairingOffer(),
  /** Binds the journal from what the store holds, without connecting. */
  async bind(): Promise<void> {
    const ydoc = new Y.Doc()
    doc = await client!.bind('journal', ydoc)
    journal = createJournal(ydoc, { device: client!.deviceId })
  },
  /** Connects and resolves once online. */
  async connect(): Promise<void> {
    const online = new Promise<void>((resolve) => client!.on('status', (e) => e.status === 'online' && resolve()))
    client!.connect()
    await online
  },
  /** Starts connecting (and reconnecting) without waiting. */
  start: (): void => client!.connect(),
  /** The last status the client reported, with the error's code and message. */
  status: () => last,
  async syncOnce(): Promise<void> {
    await client!.syncOnce()
  },
  async write(note: string): Promise<void> {
    journal!.logSession({ minutes: 10, note })
    await client!.flush()
  },
  notes: (): string[] => journal!.sessions().map((s) => s.note).sort(),
  /** Presence: this device's activity, and what every device (itself included) shows. */
  setActivity: (text: string): void => client!.presence('journal').setLocalStateField('activity', text),
  activities: (): string[] => [...client!.presence('journal').getStates().values()].map((s) => String(s.activity)).sort(),
  outboxSize: (): number => doc?.outboxSize ?? -1,
  alerts: (): string[] => client!.alerts().map((a) => `${a.kind}: ${a.message}`),
  close: (): Promise<void> => client!.close(),
}

declare global {
  var device: typeof api
}
globalThis.device = api
