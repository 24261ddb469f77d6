import { encodeFrame, messageSizeHint, receiverView } from '@mindsync/protocol'
import type { RelayMessage } from '@mindsync/protocol'

/** The transport side of one connection, as the core sees it. */
export interface Peer {
  /** Sends one binary frame. */
  send(frame: Uint8Array): void
  /** Closes the connection with a close code and a reason (at most 123 UTF-8 bytes). */
  close(code: number, reason: string): void
  /** Bytes handed to `send` that the transport has not written yet. */
  bufferedAmount(): number
}

/** A connection's queue of outgoing messages, sent as one frame per event-loop turn. */
export interface Outbox {
  push(message: RelayMessage): void
  /** Resolves once everything queued so far has been handed to the peer. */
  drained(): Promise<void>
  /** Sends what is queued now (used before closing). */
  flush(): void
  /** Drops the queue; nothing is sent afterwards. */
  discard(): void
}

/** Flushes every outbox that has messages, once per turn, after the turn's work is done. */
export interface FlushScheduler {
  schedule(flush: () => void): void
  /** Flushes everything scheduled, now. */
  flushAll(): void
}

export function createFlushScheduler(): FlushScheduler {
  let dirty = new Set<() => void>()
  let timer: ReturnType<typeof setImmediate> | undefined
  const flushAll = (): void => {
    if (timer) clearImmediate(timer)
    timer = undefined
    const now = dirty
    dirty = new Set()
    for (const f of now) f()
  }
  return {
    schedule(flush) {
      dirty.add(flush)
      // setImmediate runs after the promise jobs of this turn, so everything
      // a turn's incoming frames produced leaves in one frame per connection.
      timer ??= setImmediate(flushAll)
    },
    flushAll,
  }
}

/**
 * Creates the outbox of one connection; `onError` hears about a peer that
 * fails to send. Every envelope it is given leaves with only the receiver
 * tags addressed to `receiver`, the connection's device (PROTOCOL.md,
 * Receiver tags), whichever path queued it: fan-out, catch-up or a fetch.
 */
export function createOutbox(peer: Peer, scheduler: FlushScheduler, maxFrameBytes: number, onError: (e: unknown) => void, receiver: Uint8Array): Outbox {
  let queue: RelayMessage[] = []
  let waiters: (() => void)[] = []
  let discarded = false

  const flush = (): void => {
    const messages = queue
    const done = waiters
    queue = []
    waiters = []
    try {
      let frame: RelayMessage[] = []
      let size = 0
      for (const m of messages) {
        const s = messageSizeHint(m)
        if (frame.length > 0 && size + s > maxFrameBytes) {
          peer.send(encodeFrame(frame))
          frame = []
          size = 0
        }
        frame.push(m)
        size += s
      }
      if (frame.length > 0 && !discarded) peer.send(encodeFrame(frame))
    } catch (e) {
      onError(e)
    }
    for (const w of done) w()
  }

  return {
    push(message) {
      if (discarded) return
      if (queue.length === 0) scheduler.schedule(flush)
      queue.push(forReceiver(message, receiver))
    },
    drained() {
      if (queue.length === 0 || discarded) return Promise.resolve()
      return new Promise((resolve) => waiters.push(resolve))
    },
    flush() {
      if (queue.length > 0 || waiters.length > 0) flush()
    },
    discard() {
      discarded = true
      queue = []
      for (const w of waiters) w()
      waiters = []
    },
  }
}

/** The message with each envelope cut down to the tags for `receiver`. */
function forReceiver(m: RelayMessage, receiver: Uint8Array): RelayMessage {
  if (m.type === 'envelopes') return { ...m, items: m.items.map((it) => ({ serverSeq: it.serverSeq, envelope: receiverView(it.envelope, receiver) })) }
  if (m.type === 'awareness') return { ...m, envelope: receiverView(m.envelope, receiver) }
  return m
}
