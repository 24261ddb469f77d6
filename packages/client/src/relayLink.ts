import { CloseCode, MindsyncError, authMessage, encodeFrame, isMindsyncError } from '@mindsync/protocol'
import type { ClientMessage, ErrorCode } from '@mindsync/protocol'
import type { Status, SyncClientEvents, SyncClientOptions } from './clientTypes.js'
import type { Emitter } from './events.js'
import type { DeviceIdentity } from './identity.js'
import type { Membership } from './membership.js'
import type { Connection } from './transport.js'

/** What the client does with its connection's events. */
export interface LinkHooks {
  /** A frame of the current connection. */
  frame(frame: Uint8Array): void
  /** The transport connected: the client introduces itself (send with beforeReady). */
  opened(): void
  /** A new connection begins or the current one is dropped: work queued for the old one is void. */
  reset(): void
  /** The connection is gone: answers it would have brought will not come. */
  lost(error: MindsyncError): void
}

/**
 * The client's one connection to the relay: opens it (the device signs the
 * relay's challenge), reconnects with backoff and full jitter while wanted,
 * stays open while a caller holds a lease, and reports its status. Each
 * connection has a generation, so late events of a closed one are ignored.
 */
export class RelayLink {
  private connection: Connection | undefined
  /** The relay accepted this device's membership log: docs may talk (set by the client, online()). */
  ready = false
  /** connect() was called: stay connected until disconnect(). */
  wanted = false
  private attempt = 0
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private currentStatus: Status = 'offline'
  /** Why the connection last left 'online' (a refusal's error, such as E_REVOKED), if it said. */
  private lastError: MindsyncError | undefined
  /** Increases with every connection, so events of a closed one are ignored. */
  private gen = 0
  /** Callers holding the connection open (see acquire). */
  private leases = 0
  private opening: Promise<void> | undefined
  /** Why this side closed the connection (fail()), reported once it is closed. */
  private failure: MindsyncError | undefined

  constructor(
    private readonly options: Pick<SyncClientOptions, 'transport' | 'url' | 'reconnect'>,
    private readonly identity: DeviceIdentity,
    private readonly membership: Membership,
    private readonly events: Emitter<SyncClientEvents>,
    private readonly hooks: LinkHooks,
  ) {}

  get status(): Status {
    return this.currentStatus
  }

  get statusError(): MindsyncError | undefined {
    return this.lastError
  }

  get generation(): number {
    return this.gen
  }

  /** Stays connected, reconnecting with backoff and jitter, until stop(). */
  connect(): void {
    this.wanted = true
    if (!this.connection && this.retryTimer === undefined && this.currentStatus !== 'connecting') void this.open()
  }

  /** Stops reconnecting; the connection stays until drop() or the last lease ends. */
  stop(): void {
    this.wanted = false
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
  }

  /**
   * The relay accepted this device on connection `generation`: docs may talk
   * now. False, and nothing changes, when that connection closed or was
   * replaced while the device was being accepted: a link marked ready with
   * no connection would take sends it cannot deliver and wait forever for
   * their answers.
   */
  online(generation: number): boolean {
    if (generation !== this.gen || !this.connection) return false
    this.ready = true
    this.setStatus('online')
    return true
  }

  /** Closes the current connection, if any, and forgets it: its late events are ignored. */
  drop(reason: string): void {
    this.gen++
    this.hooks.reset()
    this.connection?.close(1000, reason)
    this.connection = undefined
    this.ready = false
    this.hooks.lost(new MindsyncError('E_UNREACHABLE', `connection closed: ${reason}`))
    if (this.currentStatus !== 'offline') this.setStatus('offline')
  }

  /** Sends when the relay accepted this device (or `beforeReady`, for the introduction); false otherwise. */
  send(message: ClientMessage, beforeReady = false): boolean {
    if (!this.connection || (!this.ready && !beforeReady)) return false
    this.connection.send(encodeFrame([message]))
    return true
  }

  /** Closes the connection as unusable: `e` is reported as a rejection and as the reason it went offline. */
  fail(e: unknown): void {
    const err = isMindsyncError(e) ? e : new MindsyncError('E_INTERNAL', String(e))
    this.failure = err
    this.events.emit('rejected', { doc: '', code: err.code, message: err.message, origin: 'received' })
    this.connection?.close(CloseCode.badFrame, err.message.slice(0, 120))
  }

  /** Closes the connection because of what the relay sent. */
  refuse(reason: string): void {
    this.connection?.close(CloseCode.badFrame, reason)
  }

  /** Holds the connection open (opening it if needed) until release(); syncs and membership changes share one connection. */
  async acquire(timeoutMs = 15_000): Promise<void> {
    this.leases++
    try {
      if (this.ready) return
      this.opening ??= this.openAndWait(timeoutMs).finally(() => {
        this.opening = undefined
      })
      await this.opening
    } catch (e) {
      this.release()
      throw e
    }
  }

  release(): void {
    this.leases--
    if (this.leases === 0 && !this.wanted) this.drop('done')
  }

  /** Runs `fn` on a ready connection, opening one (and closing it after) when there is none. */
  async withConnection<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire()
    try {
      return await fn()
    } finally {
      this.release()
    }
  }

  private setStatus(status: Status, error?: MindsyncError): void {
    this.currentStatus = status
    this.lastError = error
    this.events.emit('status', error ? { status, error } : { status })
  }

  private async open(): Promise<void> {
    const { transport, url } = this.options
    if (!transport || !url) {
      this.setStatus('refused', new MindsyncError('E_INVALID_INPUT', 'no relay configured: pass transport and url'))
      return
    }
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    this.setStatus('connecting')
    const gen = ++this.gen
    this.hooks.reset()
    try {
      const vaultId = this.membership.vaultId
      const connection = await transport.connect(
        {
          url,
          vaultId,
          signPub: this.identity.signPub,
          signAuth: (relayId, challenge) => this.identity.signer.sign(authMessage(relayId, vaultId ?? new Uint8Array(16), challenge)),
        },
        {
          onFrame: (f) => {
            if (gen === this.gen) this.hooks.frame(f)
          },
          onClose: (code, reason) => {
            if (gen === this.gen) this.onClose(code, reason)
          },
        },
      )
      if (gen !== this.gen) {
        connection.close(1000, 'superseded')
        return
      }
      this.connection = connection
    } catch (e) {
      if (gen !== this.gen) return
      const err = isMindsyncError(e) ? e : new MindsyncError('E_UNREACHABLE', String(e))
      const permanent = err.code === 'E_REVOKED' || err.code === 'E_UNAUTHORIZED'
      this.setStatus(err.code === 'E_UNREACHABLE' ? 'offline' : err.code === 'E_REVOKED' ? 'revoked' : 'refused', err)
      if (!permanent) this.scheduleRetry()
      return
    }
    this.attempt = 0
    this.hooks.opened()
  }

  private scheduleRetry(): void {
    if (!this.wanted) return
    const min = this.options.reconnect?.minMs ?? 250
    const max = this.options.reconnect?.maxMs ?? 30_000
    const delay = Math.random() * Math.min(max, min * 2 ** this.attempt++)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      // A sync or a membership change may have opened a connection meanwhile.
      if (!this.connection && this.currentStatus !== 'connecting') void this.open()
    }, delay)
  }

  private onClose(code: number, reason: string): void {
    this.connection = undefined
    this.ready = false
    this.hooks.lost(new MindsyncError(code === CloseCode.revoked ? 'E_REVOKED' : closeError(code), `relay closed the connection (${code}): ${reason || 'no reason given'}`))
    if (code === CloseCode.revoked) {
      this.wanted = false
      this.setStatus('revoked', new MindsyncError('E_REVOKED', `relay closed the connection: ${reason || 'device removed'}`))
      return
    }
    const err = this.failure ?? (code === 1000 ? undefined : new MindsyncError(closeError(code), `relay closed the connection (${code}): ${reason || 'no reason given'}`))
    this.failure = undefined
    this.setStatus('offline', err)
    this.scheduleRetry()
  }

  private async openAndWait(timeoutMs: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new MindsyncError('E_UNREACHABLE', `relay did not answer within ${timeoutMs} ms`)), timeoutMs)
      const off = this.events.on('status', ({ status, error }) => {
        if (status === 'online') finish()
        else if (status !== 'connecting') finish(error ?? new MindsyncError('E_UNREACHABLE', 'connection closed'))
      })
      const finish = (err?: MindsyncError): void => {
        clearTimeout(timer)
        off()
        if (err) reject(err)
        else resolve()
      }
      // connect() may already be opening one.
      if (this.currentStatus !== 'connecting') void this.open()
    })
  }
}

function closeError(code: number): ErrorCode {
  switch (code) {
    case CloseCode.unauthorized:
      return 'E_UNAUTHORIZED'
    case CloseCode.forbidden:
      return 'E_FORBIDDEN'
    case CloseCode.badFrame:
      return 'E_BAD_FRAME'
    case CloseCode.tooLarge:
      return 'E_TOO_LARGE'
    default:
      return 'E_UNREACHABLE'
  }
}
