/** Size and resource limits of a relay; every field has a default. */
export interface RelayLimits {
  /** Largest envelope a device may push (bytes); larger closes the connection with `tooLarge`. Default 16 MiB. */
  maxEnvelopeBytes: number
  /** Most envelopes in one `envelopes` message during catch-up and fetch. Default 1000. */
  pageItems: number
  /** Most envelope bytes in one `envelopes` message (one larger envelope still goes alone). Default 4 MiB. */
  pageBytes: number
  /** Largest frame the relay sends; queued messages beyond it go in the next frame. Default 8 MiB. */
  maxOutgoingFrameBytes: number
  /** Catch-up pauses while this many bytes wait in the connection's send buffer. Default 8 MiB. */
  catchUpHighWaterBytes: number
  /** A connection with more bytes waiting to be sent is a slow consumer and is closed (it catches up after reconnecting). Default 64 MiB. */
  maxBufferedBytes: number
  /** Received bytes a connection may have waiting to be processed; more closes it with `rateLimited`. Default 64 MiB. */
  maxPendingInBytes: number
  /** Docs one connection may subscribe to. Default 1024. */
  maxSubscriptions: number
  /** Vault membership states kept in memory (least recently used are dropped and reloaded on demand). Default 10,000. */
  maxCachedVaults: number
  /** Device chain heads (last seq and hash per device and doc) kept in memory. Default 100,000. */
  maxCachedChainHeads: number
  /** How long a challenge stays valid. Default 60 s. */
  challengeTtlMs: number
  /** How often "last seen" is written per device at most. Default 60 s. */
  touchIntervalMs: number
}

export const DEFAULT_LIMITS: Readonly<RelayLimits> = Object.freeze({
  maxEnvelopeBytes: 16 * 1024 * 1024,
  pageItems: 1000,
  pageBytes: 4 * 1024 * 1024,
  maxOutgoingFrameBytes: 8 * 1024 * 1024,
  catchUpHighWaterBytes: 8 * 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxPendingInBytes: 64 * 1024 * 1024,
  maxSubscriptions: 1024,
  maxCachedVaults: 10_000,
  maxCachedChainHeads: 100_000,
  challengeTtlMs: 60_000,
  touchIntervalMs: 60_000,
})

/** The defaults with `overrides` applied. */
export function resolveLimits(overrides: Partial<RelayLimits> = {}): RelayLimits {
  const limits = { ...DEFAULT_LIMITS }
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) continue
    if (!(k in DEFAULT_LIMITS)) throw new TypeError(`unknown relay limit "${k}"`)
    if (typeof v !== 'number' || !(v > 0)) throw new TypeError(`relay limit ${k} must be a positive number, got ${String(v)}`)
    ;(limits as Record<string, number>)[k] = v
  }
  return limits
}
