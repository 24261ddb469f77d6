import { utf8 } from '@mindsync/crypto'
import type { LocalStore } from './localStore.js'

/**
 * What a device concluded about the relay: it hides envelopes others saw
 * (withheld), serves an older state than this device already saw (rollback),
 * shows devices incompatible histories (fork), or an author signed two
 * different envelopes with one sequence number (equivocation).
 */
export interface Alert {
  kind: 'withheld' | 'rollback' | 'fork' | 'equivocation'
  doc?: string
  author?: string
  message: string
  /** Milliseconds since the epoch, when this device noticed. */
  at: number
  evidence: Record<string, unknown>
}

const KEY = 'alerts'
const KEEP = 200

/** Alerts are kept in the device's store, so `mindsync status` can show them after the sync that found them. */
export class AlertLog {
  private list: Alert[] = []
  private seen = new Set<string>()
  private saving: Promise<void> = Promise.resolve()

  constructor(private readonly store: LocalStore) {}

  async load(): Promise<void> {
    const raw = await this.store.getMeta(KEY)
    this.list = raw ? (JSON.parse(utf8.decode(raw)) as Alert[]) : []
    for (const a of this.list) this.seen.add(fingerprint(a))
  }

  /** Records an alert once (the same finding again is not news); returns true when new. Saving happens in the background: see saved(). */
  add(alert: Alert): boolean {
    const fp = fingerprint(alert)
    if (this.seen.has(fp)) return false
    this.seen.add(fp)
    this.list = [...this.list, alert].slice(-KEEP)
    const snapshot = utf8.encode(JSON.stringify(this.list))
    this.saving = this.saving.then(() => this.store.setMeta(KEY, snapshot))
    return true
  }

  /** Resolves when every alert added so far is stored. */
  saved(): Promise<void> {
    return this.saving
  }

  all(): Alert[] {
    return [...this.list]
  }
}

function fingerprint(a: Alert): string {
  return JSON.stringify([a.kind, a.doc, a.author, a.message])
}
