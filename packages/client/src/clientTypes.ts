import { Scope } from '@mindsync/protocol'
import type { MindsyncError } from '@mindsync/protocol'
import type { Alert } from './alerts.js'
import type { Progress, Rejection } from './docContext.js'
import type { LocalStore } from './localStore.js'
import type { Transport } from './transport.js'

export type Status = 'offline' | 'connecting' | 'online' | 'refused' | 'revoked'

export interface SyncClientEvents extends Record<string, unknown> {
  status: { status: Status; error?: MindsyncError }
  synced: { doc: string }
  rejected: Rejection
  alert: Alert
  membership: { length: number }
  /** A long push under way (a device back from a long time offline). */
  progress: Progress
}

export interface SyncClientOptions {
  store: LocalStore
  /** How to reach the relay (e.g. createWebSocketTransport()). Needed only to sync. */
  transport?: Transport
  /** The relay's base URL, e.g. ws://127.0.0.1:8787 */
  url?: string
  /** This device's name, used when its keys are first created. */
  name?: string
  /**
   * Local changes are sealed at the end of the task that made them. While
   * a push awaits the relay's answer, changes made less than this long after
   * it are collected until the answers are in, at most until this long
   * after the push (default 2 ms).
   */
  batchMs?: number
  /**
   * A sync ends with a snapshot of a doc (the whole state, sealed under the
   * current epoch; the relay then prunes what it covers) once this many
   * envelopes or bytes arrived since the last one, or after a new epoch.
   * Default 1,000 envelopes or 1 MiB; 0 turns that reason off.
   */
  snapshotEvery?: { envelopes?: number; bytes?: number }
  now?: () => number
  /** Reconnection backoff: full jitter between 0 and min(maxMs, minMs * 2^attempt). */
  reconnect?: { minMs?: number; maxMs?: number }
  /**
   * Wraps this device's keys in its store (Argon2id + XChaCha20-Poly1305).
   * Needed on every open once set; without one the keys are stored as they are.
   */
  passphrase?: string
  /** An admin device opens a new epoch when the current one is older than this; default 30 days, 0 never. */
  rotateAfterMs?: number
}

export interface DeviceInfo {
  id: string
  name: string
  scopes: ('read' | 'write' | 'admin' | 'recovery')[]
  addedAt: string
  addedBy: string
  removedAt?: string
  /** When the relay last saw it, if known. */
  lastSeen?: string | null
  self: boolean
}

export interface SyncReport {
  docs: number
  pending: number
  gaps: { doc: string; author: string; from: number; to: number }[]
}

/** Names of the scope bits, for people. */
export function scopeNames(scopes: number): DeviceInfo['scopes'] {
  const out: DeviceInfo['scopes'] = []
  if (scopes & Scope.read) out.push('read')
  if (scopes & Scope.write) out.push('write')
  if (scopes & Scope.admin) out.push('admin')
  if (scopes & Scope.recovery) out.push('recovery')
  return out
}
