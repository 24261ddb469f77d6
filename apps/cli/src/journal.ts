import type { SyncClient } from '@mindsync/client'
import { MindsyncError } from '@mindsync/client'
import { createJournal } from '@mindsync/practice'
import type { Journal } from '@mindsync/practice'
import * as Y from 'yjs'

/** The name of the practice journal doc inside the vault (never seen by the relay: it sees a keyed hash). */
export const JOURNAL_DOC = 'journal'

/** Loads this device's journal from its store. */
export async function openJournal(client: SyncClient): Promise<Journal> {
  if (!client.membership.self()) {
    throw new MindsyncError('E_NOT_INITIALIZED', 'this device has not joined a vault yet: run `mindsync init` or pair it and run `mindsync sync`')
  }
  const doc = new Y.Doc()
  await client.bind(JOURNAL_DOC, doc)
  return createJournal(doc, { device: client.deviceId })
}
