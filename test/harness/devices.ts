import { createMemoryStore, createSyncClient, Scope } from '@mindsync/client'
import type { DocSync, LocalStore, SyncClient, SyncClientOptions, Transport } from '@mindsync/client'
import { createJournal } from '@mindsync/practice'
import type { Journal } from '@mindsync/practice'
import * as Y from 'yjs'

/** A device in a test: the engine on a memory store (or the one given), with the practice journal bound once it is a member. */
export interface TestDevice {
  name: string
  client: SyncClient
  journal?: Journal
  /** Notes this device logged, in order. */
  written: string[]
  /** The device's local store (to see which envelopes it holds). */
  store: LocalStore
  /** The journal's doc binding, once bound. */
  doc?: DocSync
}

export const ADMIN = Scope.read | Scope.write | Scope.admin

/** Engine options a test may change (e.g. a short reconnection backoff). */
export type DeviceOptions = Pick<SyncClientOptions, 'reconnect' | 'now' | 'url' | 'snapshotEvery' | 'batchMs'> & { store?: LocalStore }

export async function newDevice(name: string, transport: Transport, options: DeviceOptions = {}): Promise<TestDevice> {
  const { store = createMemoryStore(), ...rest } = options
  const client = await createSyncClient({ store, transport, url: 'mem://relay', name, batchMs: 0, rotateAfterMs: 0, ...rest })
  return { name, client, written: [], store }
}

export async function bindJournal(d: TestDevice): Promise<void> {
  if (d.journal) return
  const doc = new Y.Doc()
  d.doc = await d.client.bind('journal', doc)
  d.journal = createJournal(doc, { device: d.client.deviceId })
}

/** The first device: creates the vault, registers it, binds the journal. */
export async function founder(name: string, transport: Transport, options: DeviceOptions = {}): Promise<TestDevice> {
  const d = await newDevice(name, transport, options)
  await d.client.createVault()
  await d.client.syncOnce()
  await bindJournal(d)
  return d
}

/** Pairs a new device through `by` and lets it join. */
export async function admit(by: TestDevice, name: string, transport: Transport, scopes = ADMIN, options: DeviceOptions = {}): Promise<TestDevice> {
  const d = await newDevice(name, transport, options)
  await by.client.acceptPairing(await d.client.createPairingOffer(), scopes)
  await d.client.syncOnce()
  await bindJournal(d)
  return d
}

/** Logs a session with a unique note and seals it. */
export async function write(d: TestDevice, note: string): Promise<void> {
  d.journal!.logSession({ minutes: 5, note })
  d.written.push(note)
  await d.client.flush()
}

export function notes(d: TestDevice): string[] {
  return d.journal!.sessions().map((s) => s.note).sort()
}

/** Connects the device and resolves once it is online (at once when it already is). */
export async function online(d: TestDevice): Promise<void> {
  if (d.client.status === 'online') return
  const up = new Promise<void>((resolve) => d.client.on('status', (e) => e.status === 'online' && resolve()))
  d.client.connect()
  await up
}

/** Resolves on the next event-loop turn, after the frames a core transport delivers now. */
export const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

/** Polls `done` every 5 ms; fails with `what` after `ms`. */
export async function until(what: string, done: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}
