import { createMemoryStore, createSyncClient, Scope } from '@mindsync/client'
import type { SyncClient, Transport } from '@mindsync/client'
import { createJournal } from '@mindsync/practice'
import type { Journal } from '@mindsync/practice'
import * as Y from 'yjs'

/** A device in a test: the engine on a memory store, with the practice journal bound once it is a member. */
export interface TestDevice {
  name: string
  client: SyncClient
  journal?: Journal
  /** Notes this device logged, in order. */
  written: string[]
}

export const ADMIN = Scope.read | Scope.write | Scope.admin

export async function newDevice(name: string, transport: Transport): Promise<TestDevice> {
  const client = await createSyncClient({ store: createMemoryStore(), transport, url: 'mem://relay', name, batchMs: 0, rotateAfterMs: 0 })
  return { name, client, written: [] }
}

export async function bindJournal(d: TestDevice): Promise<void> {
  if (d.journal) return
  const doc = new Y.Doc()
  await d.client.bind('journal', doc)
  d.journal = createJournal(doc, { device: d.client.deviceId })
}

/** The first device: creates the vault, registers it, binds the journal. */
export async function founder(name: string, transport: Transport): Promise<TestDevice> {
  const d = await newDevice(name, transport)
  await d.client.createVault()
  await d.client.syncOnce()
  await bindJournal(d)
  return d
}

/** Pairs a new device through `by` and lets it join. */
export async function admit(by: TestDevice, name: string, transport: Transport, scopes = ADMIN): Promise<TestDevice> {
  const d = await newDevice(name, transport)
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
