// The shared workload: practice-journal entries written into one Y.Map, one transaction per
// entry (about 100 bytes of Yjs update each), and a tracker that counts every delivery.
import * as Y from 'yjs'

export const MAP = 'journal'
const NOTES = ['calm, steady breath', 'restless start, settled', 'body scan before sleep', 'walking, noticed the wind', 'short sit after work']
const KEY_BASE = 10_000_000

/** Writes entry `seq` of writer `w` into its doc; `t` is the write time (performance.now()). */
export function writeEntry(doc, w, seq, t) {
  doc.getMap(MAP).set(String(w * KEY_BASE + seq), {
    kind: 'session',
    minutes: 5 + (seq % 40),
    mood: 1 + (seq % 5),
    stress: seq % 4,
    note: NOTES[seq % NOTES.length],
    t,
  })
}

export const keyWriter = (key) => Math.floor(Number(key) / KEY_BASE)
export const keySeq = (key) => Number(key) % KEY_BASE

/** Size of one entry's Yjs update, to report the workload. */
export function entryUpdateBytes() {
  const doc = new Y.Doc()
  let size = 0
  doc.on('update', (u) => {
    size = u.length
  })
  writeEntry(doc, 3, 1234, 123456.789)
  doc.destroy()
  return size
}

/**
 * Counts deliveries: device `r` receiving writer `w`'s entry `seq`. An entry is complete when
 * all other `n - 1` devices have it. `latencies` (optional, `{ from, list, author? }`) records
 * now - t for every delivery of an entry written at or after `from`, and in `author` the part
 * of it before the writer's device sent anything (`sent(w)`), when the writer's sends are reported.
 * `clock` gives the time entries are written with, and `sentAt`, per writer, where the send times
 * are kept (0: not sent yet); devices in several threads share both (lib/deviceThread.mjs).
 */
export function createTracker(n, { onComplete, latencies, clock = () => performance.now(), sentAt = Array.from({ length: n }, () => new Float64Array(1 << 16)) } = {}) {
  const written = new Int32Array(n)
  const completed = new Int32Array(n)
  const counts = Array.from({ length: n }, () => new Uint8Array(1 << 16))
  // sentAt: when each writer's device first sent something after each entry: the entry left with it,
  // or was still waiting to be sealed (a later send then marks it; an entry's wait is at most understated).
  const sentUpTo = new Int32Array(n)
  let deliveries = 0
  let duplicates = 0
  let lastDeliveryAt = 0
  const grow = (arrays, w, seq) => {
    const a = arrays[w]
    if (seq < a.length) return a
    let size = a.length
    while (size <= seq) size *= 2
    const b = new a.constructor(size)
    b.set(a)
    arrays[w] = b
    return b
  }
  return {
    written,
    completed,
    get deliveries() {
      return deliveries
    },
    get duplicates() {
      return duplicates
    },
    get lastDeliveryAt() {
      return lastDeliveryAt
    },
    wrote(w) {
      written[w]++
    },
    /** Writer `w`'s device sent a frame: every entry it wrote before now has left or waits for a later one. */
    sent(w) {
      const now = clock()
      const a = grow(sentAt, w, written[w] - 1)
      for (let seq = sentUpTo[w]; seq < written[w]; seq++) a[seq] = now
      sentUpTo[w] = written[w]
    },
    /** Attaches the counting observer to device `r`'s doc. */
    observe(r, doc) {
      const map = doc.getMap(MAP)
      map.observe((event) => {
        const now = clock()
        for (const key of event.keysChanged) {
          const w = keyWriter(key)
          if (w === r) continue
          const seq = keySeq(key)
          const a = grow(counts, w, seq)
          if (a[seq] >= n - 1) {
            duplicates++
            continue
          }
          deliveries++
          lastDeliveryAt = now
          if (latencies) {
            const t = map.get(key).t
            if (t >= latencies.from) {
              latencies.list.push(now - t)
              const sentMs = seq < sentAt[w].length ? sentAt[w][seq] : 0
              latencies.author?.push(sentMs > 0 ? sentMs - t : NaN)
              latencies.at?.push(t)
            }
          }
          if (++a[seq] === n - 1) {
            completed[w]++
            onComplete?.(w)
          }
        }
      })
    },
    /** Entries not delivered to every other device: [{ writer, seq, got }] (at most `limit`). */
    missing(limit = 10) {
      const out = []
      for (let w = 0; w < n; w++) {
        for (let seq = 0; seq < written[w] && out.length < limit; seq++) {
          const got = seq < counts[w].length ? counts[w][seq] : 0
          if (got !== n - 1) out.push({ writer: w, seq, got })
        }
      }
      return out
    },
    totalWritten: () => written.reduce((a, b) => a + b, 0),
    totalCompleted: () => completed.reduce((a, b) => a + b, 0),
  }
}

/** p-quantile of a sorted Float64Array. */
export function quantile(sorted, p) {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))
  return sorted[i]
}

/**
 * Writes entries round robin over `docs` at `rate` per second in total, for `warmupMs` and then
 * `seconds` more (latencies count from the end of the warm-up, `onWarm` is called then), and
 * waits up to `drainMs` for every entry to reach every other doc; throws if some never do.
 */
export async function writeAtRate(docs, tracker, { rate, warmupMs, seconds, latencies, onWarm, drainMs = 30_000 }) {
  const n = docs.length
  const start = performance.now()
  latencies.from = start + warmupMs
  const total = Math.round(((warmupMs + seconds * 1000) * rate) / 1000)
  let k = 0
  let warm = false
  await new Promise((done) => {
    const tick = () => {
      const now = performance.now()
      if (!warm && now >= latencies.from) {
        warm = true
        onWarm?.()
      }
      while (k < total && start + (k * 1000) / rate <= now) {
        const w = k++ % n
        writeEntry(docs[w], w, tracker.written[w], now)
        tracker.wrote(w)
      }
      if (k < total) setTimeout(tick, 1)
      else done()
    }
    tick()
  })
  const expected = tracker.totalWritten() * (n - 1)
  const drainStart = performance.now()
  while (tracker.deliveries < expected && performance.now() - drainStart < drainMs) await new Promise((r) => setTimeout(r, 10))
  if (tracker.deliveries !== expected) throw new Error(`${expected - tracker.deliveries} deliveries missing after ${drainMs} ms`)
}
