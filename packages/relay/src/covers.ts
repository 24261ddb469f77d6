// No import of the crypto package: the storage's writer thread loads this file.
const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
import type { CoveredHead } from '@mindsync/protocol'

/** hex device id → the seq a snapshot covers that device up to. */
export function coveredSeqs(covers: readonly CoveredHead[]): Map<string, number> {
  return new Map(covers.map((c) => [toHex(c.deviceId), c.seq]))
}

/**
 * True when a snapshot covering `next` may replace the doc's base snapshot
 * covering `base`: it covers every device the base covers, each up to at
 * least the same seq, so nothing the base held is lost. Two devices that
 * snapshot concurrently each miss the other's latest changes: neither
 * dominates the other, and the later one is stored as an ordinary envelope.
 */
export function dominates(next: readonly CoveredHead[], base: readonly CoveredHead[] | undefined): boolean {
  if (!base) return true
  const seqs = coveredSeqs(next)
  return base.every((b) => (seqs.get(toHex(b.deviceId)) ?? 0) >= b.seq)
}

/** A copy sorted by device id (the order `baseSnapshot` reports), independent of the caller's arrays. */
export function copyCovers(covers: readonly CoveredHead[]): CoveredHead[] {
  return covers
    .map((c) => ({ deviceId: c.deviceId.slice(), seq: c.seq, hash: c.hash.slice() }))
    .sort((a, b) => (toHex(a.deviceId) < toHex(b.deviceId) ? -1 : toHex(a.deviceId) > toHex(b.deviceId) ? 1 : 0))
}
