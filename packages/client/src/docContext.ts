import type { ClientMessage, ErrorCode } from '@mindsync/protocol'
import type { Alert } from './alerts.js'
import type { DeviceIdentity } from './identity.js'
import type { LocalStore } from './localStore.js'
import type { Membership } from './membership.js'

/** Why an envelope was not applied. */
export interface Rejection {
  doc: string
  /** Who refused: the relay refused this device's envelope, this device refused a received one, or a local change could not be sealed. */
  origin: 'relay' | 'received' | 'local'
  code: ErrorCode
  message: string
  author?: string
  seq?: number
  serverSeq?: number
}

/** How far a long push has come. */
export interface Progress {
  doc: string
  phase: 'push'
  done: number
  total: number
}

/** What a bound doc takes from the client that holds it. */
export interface DocContext {
  identity: DeviceIdentity
  membership: Membership
  store: LocalStore
  batchMs: number
  /** Sends when online; returns false when offline. */
  send(message: ClientMessage): boolean
  rejected(rejection: Rejection): void
  alert(alert: Omit<Alert, 'at'>): void
  changed(): void
  /** Reports a long push (at least PROGRESS_FROM envelopes) as it goes. */
  progress(p: Progress): void
  /** Write a snapshot once this many envelopes or bytes arrived since the last one (0: never for that reason). */
  snapshotEvery: { envelopes: number; bytes: number }
}
