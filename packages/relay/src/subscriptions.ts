import { toHex } from '@mindsync/crypto'
import { CloseCode } from '@mindsync/protocol'
import type { StoredEnvelope } from '@mindsync/protocol'
import type { PendingPush } from './chains.js'
import type { Connection } from './connection.js'
import type { RelayLimits } from './limits.js'
import type { RelayLog } from './log.js'
import type { RelayStorage } from './storage.js'

interface Subscription {
  conn: Connection
  docId: Uint8Array
  /** Highest serverSeq this connection has been given (as an envelope or an ack). */
  delivered: number
  /** Catch-up is over: stored envelopes now reach it by fan-out. */
  live: boolean
  cancelled: boolean
  /** The last `stored` head sent, and when (performance.now()). */
  marked: number
  markedAt: number
  /** Per author (by the push's chainKey: one doc, so one key per author), the highest seq sent early and stored since the last marker: the marker's `heads`. */
  confirms: Map<string, { deviceId: Uint8Array; seq: number }>
  /** Its `stored` marker is due (it is in the list the marker timer sends). */
  due: boolean
}

interface Channel {
  vaultId: Uint8Array
  docId: Uint8Array
  /** Highest serverSeq fanned out while this channel existed. */
  head: number
  subs: Map<Connection, Subscription>
}

/**
 * Who listens to which doc, catch-up from a cursor, and fan-out.
 *
 * The invariant (tested): a subscriber receives every stored serverSeq
 * after its cursor exactly once and in order, even while pushes are stored
 * during its catch-up. Envelopes a base snapshot pruned are simply no longer
 * stored: catch-up serves the snapshot instead, as the next stored item. Catch-up reads pages from storage; it turns live only in the
 * same synchronous step that sees an empty page AND `delivered >= head`,
 * where `head` rises in the same step as each fan-out. Any batch stored
 * before that step was read by catch-up; any batch after reaches it by
 * fan-out; `delivered` filters the overlap.
 */
export interface Subscriptions {
  subscribe(conn: Connection, vaultId: Uint8Array, docId: Uint8Array, cursor: number): 'ok' | 'too-many'
  /** Sends stored envelopes with from ≤ serverSeq ≤ to (gap repair); independent of subscriptions. */
  fetch(conn: Connection, vaultId: Uint8Array, docId: Uint8Array, from: number, to: number): void
  /**
   * Early fan-out: sends an accepted push, before it is stored, to the doc's
   * live subscribers other than its author, as `serverSeq` 0 (not stored yet).
   * `stored` then sends them only the `stored` marker for it.
   */
  early(item: PendingPush, from: Connection): void
  /** Acks the pushers and fans a stored batch of one doc out to its live subscribers, in serverSeq order. */
  stored(docKey: string, items: readonly PendingPush[]): void
  /** Forwards an awareness envelope to every other subscriber of the doc; nothing is stored. */
  awareness(from: Connection, docKey: string, envelope: Uint8Array): void
  /** Forgets a closed connection. */
  drop(conn: Connection): void
}

export interface SubscriptionOptions {
  storage: RelayStorage
  limits: RelayLimits
  log: RelayLog
  /**
   * How often at most a subscriber gets a `stored` marker (default 50 ms):
   * one marker covers every commit since the last, and goes out with other
   * messages when there are any. Its cursor moves a little later; in return
   * a busy doc costs no marker per commit per subscriber.
   */
  markerDelayMs?: number
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export function createSubscriptions({ storage, limits, log, markerDelayMs = 50 }: SubscriptionOptions): Subscriptions {
  const channels = new Map<string, Channel>()
  const byConn = new Map<Connection, Set<string>>()
  /**
   * Subscribers given envelopes early whose `stored` marker has not gone out
   * yet (those with `due` set; one sent sooner is skipped). A list and a
   * flag rather than a Set: a long-lived Set that takes and drops members
   * all the time rebuilds its table every few changes, and V8 links each
   * replaced table to the next, so they all reached the old generation
   * (bench README, "Old-generation garbage"). For the same reason a marker
   * starts a new `confirms` Map instead of clearing the old one.
   */
  let due: Subscription[] = []
  let markerTimer: ReturnType<typeof setTimeout> | undefined

  /** Sends a due marker now: everything up to `delivered` is stored and was sent to this connection. */
  function sendMarker(sub: Subscription): void {
    sub.due = false
    if (sub.cancelled || !sub.conn.isOpen() || (sub.delivered <= sub.marked && sub.confirms.size === 0)) return
    sub.marked = sub.delivered
    sub.markedAt = performance.now()
    const heads = [...sub.confirms.values()]
    sub.confirms = new Map()
    sub.conn.outbox.push({ type: 'stored', docId: sub.docId, head: sub.delivered, heads })
  }

  /** A due marker goes with this connection's next messages once the last one is old enough; else the timer sends it. */
  function markerNow(sub: Subscription): boolean {
    return performance.now() - sub.markedAt >= markerDelayMs
  }

  function markLater(sub: Subscription): void {
    if (!sub.due) {
      sub.due = true
      due.push(sub)
    }
    markerTimer ??= setTimeout(() => {
      markerTimer = undefined
      const list = due
      due = []
      for (const d of list) if (d.due) sendMarker(d)
    }, markerDelayMs)
    markerTimer.unref?.()
  }

  /** Waits until the connection has sent what was queued and its buffer is below the high-water mark. */
  async function pace(conn: Connection, cancelled: () => boolean): Promise<void> {
    await conn.outbox.drained()
    while (!cancelled() && conn.isOpen() && conn.bufferedAmount() > limits.catchUpHighWaterBytes) await sleep(10)
  }

  function send(conn: Connection, docId: Uint8Array, items: StoredEnvelope[]): void {
    if (items.length > 0) conn.outbox.push({ type: 'envelopes', docId, items })
  }

  async function catchUp(ch: Channel, sub: Subscription): Promise<void> {
    const gone = (): boolean => sub.cancelled || !sub.conn.isOpen()
    for (;;) {
      const page = await storage.readEnvelopes(ch.vaultId, ch.docId, sub.delivered, limits.pageItems, limits.pageBytes)
      if (gone()) return
      const fresh = page.filter((it) => it.serverSeq > sub.delivered)
      if (fresh.length > 0) {
        send(sub.conn, ch.docId, fresh)
        sub.delivered = (fresh[fresh.length - 1] as StoredEnvelope).serverSeq
        await pace(sub.conn, gone)
        if (gone()) return
        continue
      }
      const storedHead = await storage.headSeq(ch.vaultId, ch.docId)
      if (gone()) return
      // Synchronous from the check to `live = true`: no fan-out can slip between.
      if (sub.delivered >= ch.head && sub.delivered >= storedHead) {
        sub.live = true
        sub.conn.outbox.push({ type: 'caughtUp', docId: ch.docId, head: Math.max(ch.head, storedHead) })
        return
      }
      // Something was stored after the page was read: read again.
    }
  }

  function channelOf(vaultId: Uint8Array, docId: Uint8Array): [string, Channel] {
    const key = `${toHex(vaultId)}:${toHex(docId)}`
    let ch = channels.get(key)
    if (!ch) {
      ch = { vaultId, docId, head: 0, subs: new Map() }
      channels.set(key, ch)
    }
    return [key, ch]
  }

  function fail(conn: Connection, what: string, e: unknown): void {
    log({ level: 'error', event: `relay.${what}.failed`, conn: conn.id, error: e })
    conn.close(CloseCode.internal, `${what} failed on the relay; reconnect`)
  }

  return {
    subscribe(conn, vaultId, docId, cursor) {
      const [key, ch] = channelOf(vaultId, docId)
      const keys = byConn.get(conn) ?? new Set<string>()
      if (!keys.has(key) && keys.size >= limits.maxSubscriptions) return 'too-many'
      const old = ch.subs.get(conn)
      if (old) old.cancelled = true
      const sub: Subscription = { conn, docId, delivered: cursor, live: false, cancelled: false, marked: cursor, markedAt: 0, confirms: new Map(), due: false }
      ch.subs.set(conn, sub)
      keys.add(key)
      byConn.set(conn, keys)
      catchUp(ch, sub).catch((e) => fail(conn, 'catch-up', e))
      return 'ok'
    },

    fetch(conn, vaultId, docId, from, to) {
      const run = async (): Promise<void> => {
        let after = Math.max(0, from - 1)
        while (after < to && conn.isOpen()) {
          const page = await storage.readEnvelopes(vaultId, docId, after, limits.pageItems, limits.pageBytes)
          const items = page.filter((it) => it.serverSeq > after && it.serverSeq <= to)
          send(conn, docId, items)
          if (items.length < page.length || page.length === 0) return
          after = (page[page.length - 1] as StoredEnvelope).serverSeq
          await pace(conn, () => false)
        }
      }
      run().catch((e) => fail(conn, 'fetch', e))
    },

    early(item, from) {
      const ch = channels.get(item.docKey)
      if (!ch) return
      for (const [conn, sub] of ch.subs) {
        if (conn === from || !sub.live || sub.cancelled || !conn.isOpen()) continue
        // A marker waiting for company leaves in the same frame.
        if (sub.due && markerNow(sub)) sendMarker(sub)
        conn.outbox.push({ type: 'envelopes', docId: ch.docId, items: [{ serverSeq: 0, envelope: item.record.bytes }] })
        ;(item.early ??= []).push(conn)
      }
    },

    stored(docKey, items) {
      const ch = channels.get(docKey)
      const last = items[items.length - 1]
      if (!last) return
      const targets = new Map<Connection, Subscription | undefined>()
      if (ch) {
        ch.head = Math.max(ch.head, last.serverSeq)
        for (const [conn, sub] of ch.subs) if (sub.live && !sub.cancelled) targets.set(conn, sub)
      }
      for (const item of items) for (const p of item.pushers) if (!targets.has(p)) targets.set(p, undefined)
      const docId = last.record.docId
      for (const [conn, sub] of targets) {
        if (!conn.isOpen()) continue
        // Walk the batch in serverSeq order so acks and envelopes stay in order for this connection.
        let run: StoredEnvelope[] = []
        let early = false
        let sent = false
        for (const item of items) {
          const fresh = sub !== undefined && item.serverSeq > sub.delivered
          if (item.pushers.includes(conn)) {
            send(conn, docId, run)
            run = []
            sent = true
            conn.outbox.push({ type: 'ack', docId, seq: item.record.seq, serverSeq: item.serverSeq })
          } else if (fresh && item.early?.includes(conn)) {
            // Sent before it was stored: only the marker is left to send, naming its author's seq.
            early = true
            const r = item.record
            if ((sub.confirms.get(item.chainKey)?.seq ?? 0) < r.seq) sub.confirms.set(item.chainKey, { deviceId: r.deviceId, seq: r.seq })
          } else if (fresh) {
            run.push({ serverSeq: item.serverSeq, envelope: item.record.bytes })
          }
          if (sub && fresh) sub.delivered = item.serverSeq
        }
        send(conn, docId, run)
        if (sub && early) {
          // With other messages in this frame the marker costs nothing extra; alone, it waits for company.
          if ((sent || run.length > 0) && markerNow(sub)) sendMarker(sub)
          else markLater(sub)
        }
        if (sub && conn.bufferedAmount() > limits.maxBufferedBytes) {
          conn.close(CloseCode.rateLimited, 'slow consumer: too many bytes waiting to be sent; reconnect and catch up')
        }
      }
    },

    awareness(from, docKey, envelope) {
      const ch = channels.get(docKey)
      if (!ch) return
      for (const [conn, sub] of ch.subs) {
        if (conn !== from && !sub.cancelled && conn.isOpen()) conn.outbox.push({ type: 'awareness', envelope })
      }
    },

    drop(conn) {
      for (const key of byConn.get(conn) ?? []) {
        const ch = channels.get(key)
        const sub = ch?.subs.get(conn)
        if (sub) {
          sub.cancelled = true
          sub.due = false
        }
        ch?.subs.delete(conn)
        if (ch && ch.subs.size === 0) channels.delete(key)
      }
      byConn.delete(conn)
    },
  }
}
