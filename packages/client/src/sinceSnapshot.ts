import { EnvelopeKind } from '@mindsync/protocol'
import type { Envelope } from '@mindsync/protocol'

/** What arrived since the last snapshot this device saw: enough to tell when the next one is due. */
export class SinceSnapshot {
  count = 0
  bytes = 0
  oldestEpoch = Number.POSITIVE_INFINITY

  note(env: Envelope, size: number): void {
    if (env.header.kind === EnvelopeKind.snapshot) return this.reset()
    this.count++
    this.bytes += size
    this.oldestEpoch = Math.min(this.oldestEpoch, env.header.epoch)
  }

  reset(): void {
    this.count = 0
    this.bytes = 0
    this.oldestEpoch = Number.POSITIVE_INFINITY
  }

  /** A snapshot is due once the envelopes since the last pass the policy, or some are under an epoch older than `epoch` (their data can be sealed again). */
  due(policy: { envelopes: number; bytes: number }, epoch: number): boolean {
    return (policy.envelopes > 0 && this.count >= policy.envelopes) || (policy.bytes > 0 && this.bytes >= policy.bytes) || (this.count > 0 && this.oldestEpoch < epoch)
  }
}
