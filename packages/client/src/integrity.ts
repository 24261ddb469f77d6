import { toHex } from '@mindsync/crypto'
import { opHash, sameBytes } from '@mindsync/protocol'
import type { Alert } from './alerts.js'
import type { ChainTracker } from './chain.js'
import type { Checkpoint } from './checkpoint.js'
import type { Membership } from './membership.js'

const MAX_FETCH = 10_000

/**
 * What one doc's envelopes and other devices' checkpoints say should exist,
 * against what the relay serves: plans the fetches that repair holes, and
 * turns what cannot be repaired, or cannot be true, into alerts.
 */
export class IntegrityCheck {
  /** Highest seq of each author that some checkpoint says exists. */
  private readonly claims = new Map<string, { seq: number; by: string }>()
  /** Ranges asked for in this connection, so a relay that will not serve them is asked once. */
  private readonly asked = new Set<string>()
  pendingFetches = 0

  constructor(
    private readonly doc: string,
    private readonly chains: ChainTracker,
    private readonly membership: Membership,
    private readonly alert: (a: Omit<Alert, 'at'>) => void,
    /** The highest seq of an author the relay is known to have stored (DocSync's confirmed heads). */
    private readonly storedUpTo: (author: string) => number,
  ) {}

  /** Compares another device's checkpoint with what this device holds. */
  compare(by: string, cp: Checkpoint): void {
    const { ops } = this.membership
    const mine = ops[cp.ops.index]
    if (mine && !sameBytes(opHash(mine), cp.ops.hash)) {
      this.alert({ kind: 'fork', doc: this.doc, author: by, message: `device ${by} saw a different membership op ${cp.ops.index} than this device`, evidence: { index: cp.ops.index, theirs: toHex(cp.ops.hash), ours: toHex(opHash(mine)) } })
    } else if (!mine) {
      this.alert({ kind: 'withheld', doc: this.doc, author: by, message: `device ${by} saw membership op ${cp.ops.index} but the relay served this device only ${ops.length} ops`, evidence: { index: cp.ops.index, have: ops.length } })
    }
    for (const h of cp.heads) {
      const author = toHex(h.author)
      const link = this.chains.at(author, h.seq)
      if (link && !sameBytes(link.hash, h.hash)) {
        this.alert({ kind: 'fork', doc: this.doc, author, message: `device ${by} saw a different envelope ${h.seq} of ${author} than this device`, evidence: { seq: h.seq, theirs: toHex(h.hash), ours: toHex(link.hash), checkpointBy: by } })
      } else if (!link && !this.chains.covered(author, h.seq) && h.seq > (this.claims.get(author)?.seq ?? 0)) {
        this.claims.set(author, { seq: h.seq, by })
      }
    }
  }

  /** Ranges of author seqs known to exist (holes, or named by checkpoints) that this device lacks and has not asked for yet. */
  missing(): { author: string; from: number; to: number }[] {
    // Asked after every received batch: nothing to allocate in the usual case of no holes and no claims.
    if (this.claims.size === 0 && !this.chains.hasGaps()) return []
    const out = this.chains.gaps()
    for (const [author, claim] of this.claims) {
      const head = this.chains.head(author).seq
      if (claim.seq > head) out.push({ author, from: head + 1, to: claim.seq })
    }
    const ranges: { author: string; from: number; to: number }[] = []
    for (const r of out) {
      for (let from = r.from; from <= r.to; from += MAX_FETCH) {
        const range = { author: r.author, from, to: Math.min(r.to, from + MAX_FETCH - 1) }
        // Asked once while the relay is not known to have stored all of it (an envelope sent early
        // may name one still being stored), and once more when it is: then what is missing was withheld.
        const stored = this.storedUpTo(range.author) >= range.to
        const key = `${range.author}/${range.from}/${range.to}/${stored}`
        if (!this.asked.has(key)) {
          this.asked.add(key)
          ranges.push(range)
        }
      }
    }
    return ranges
  }

  /** The relay answered a fetch: whatever of the range is still missing was withheld. */
  fetched(author: string, from: number, to: number, count: number): void {
    this.pendingFetches = Math.max(0, this.pendingFetches - 1)
    // Only what the relay is known to have stored can be withheld: an envelope sent early names a
    // predecessor the relay may still be storing, or lost in a crash (its author pushes both again).
    const stored = this.storedUpTo(author)
    const still: number[] = []
    for (let s = from; s <= Math.min(to, stored); s++) if (!this.chains.holds(author, s)) still.push(s)
    if (still.length === 0) return
    const claim = this.claims.get(author)
    const why = claim && claim.seq >= from ? `device ${claim.by} saw up to ${claim.seq}` : 'later envelopes of that author name them'
    this.alert({
      kind: 'withheld',
      doc: this.doc,
      author,
      message: `the relay did not serve ${still.length} envelope(s) of ${author} (seq ${still[0]}${still.length > 1 ? `..${still[still.length - 1]}` : ''}) although ${why}`,
      evidence: { from, to, served: count, missing: still.length },
    })
  }

  /** A new connection may serve what the last one did not. */
  reset(): void {
    this.asked.clear()
    this.pendingFetches = 0
  }
}
