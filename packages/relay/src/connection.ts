import type { Outbox } from './outbox.js'

/** What the relay's parts need from one open connection (a session implements it). */
export interface Connection {
  /** A small number for logs. */
  readonly id: number
  readonly outbox: Outbox
  isOpen(): boolean
  /** Bytes waiting in the transport's send buffer. */
  bufferedAmount(): number
  /** Sends what is queued, then closes with a code and a reason. */
  close(code: number, reason: string): void
}
