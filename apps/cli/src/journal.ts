import type { SyncClient } from '@mindsync/client'
import { MindsyncError, Scope } from '@mindsync/client'
import { createJournal } from '@mindsync/practice'
import type { Journal } from '@mindsync/practice'
import * as Y from 'yjs'

/** The name of the practice journal doc inside the vault (never seen by the relay: it sees a keyed hash). */
export const JOURNAL_DOC = 'journal'

/** Loads this device's journal from its store; `write` checks first that this device may write. */
export async function openJournal(client: SyncClient, options: { write?: boolean } = {}): Promise<Journal> {
  const self = client.membership.self()
  if (!self) {
    const removed = client.membership.member(client.identity.deviceId)?.removedIndex !== undefined
    if (!removed || options.write) {
      throw new MindsyncError(
        removed ? 'E_REVOKED' : 'E_NOT_INITIALIZED',
        removed ? 'this device was removed from the vault; it can still show what it holds but not add to it' : 'this device has not joined a vault yet: run `mindsync init` or pair it and run `mindsync sync`',
      )
    }
  } else if (options.write && (self.scopes & Scope.write) === 0) {
    throw new MindsyncError('E_SCOPE', 'this device was added with read scope: it can show the journal but not log to it')
  }
  const doc = new Y.Doc()
  await client.bind(JOURNAL_DOC, doc)
  return createJournal(doc, { device: client.deviceId })
}
