import type { SyncClient } from '@mindsync/client'

/**
 * What the engine raises when the relay withholds, rolls back or forks
 * (issue 4): `client.alerts()` and the `alert` event. Read through this
 * module so the tests compile against an engine with or without it.
 */
export interface Alert {
  kind: 'withheld' | 'rollback' | 'fork' | 'equivocation'
  doc?: string
  author?: string
  message: string
  at: number
  evidence: Record<string, unknown>
}

interface Detecting {
  alerts?: () => Alert[]
  checkpoint?: () => Promise<unknown>
  on(name: string, listener: (e: unknown) => void): () => void
}

const detecting = (client: SyncClient): Detecting => client as unknown as Detecting

/** True when the engine has the detection API (alerts() and checkpoint()). */
export function hasDetection(client: SyncClient): boolean {
  const c = detecting(client)
  return typeof c.alerts === 'function' && typeof c.checkpoint === 'function'
}

/** The device's alerts so far; [] when the engine has no alerts() yet. */
export function alertsOf(client: SyncClient): Alert[] {
  const c = detecting(client)
  return typeof c.alerts === 'function' ? c.alerts() : []
}

/** Seals and pushes a checkpoint when the engine can; false when it has no checkpoint() yet. */
export async function checkpointOf(client: SyncClient): Promise<boolean> {
  const c = detecting(client)
  if (typeof c.checkpoint !== 'function') return false
  await c.checkpoint()
  return true
}

/** Listens to `alert` events (an engine without them never calls back). */
export function onAlert(client: SyncClient, listener: (a: Alert) => void): () => void {
  return detecting(client).on('alert', (e) => listener(e as Alert))
}
