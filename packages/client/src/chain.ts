import { toHex } from '@mindsync/crypto'
import { ZERO_HASH, sameBytes } from '@mindsync/protocol'

interface Link {
  hash: Uint8Array
  prevHash: Uint8Array
}

/** Where a snapshot says an author's chain stands: every seq up to `seq` is held through the snapshot. */
interface Base {
  seq: number
  hash: Uint8Array
}

export type ChainVerdict =
  | { ok: true; duplicate: boolean }
  | { ok: false; code: 'E_EQUIVOCATION' | 'E_CHAIN'; message: string }

/**
 * Per author (and doc): the hash chain of envelopes seen. Order-independent:
 * an envelope fits when it agrees with both neighbours it has, so envelopes
 * may arrive late or out of order; missing ones are reported as gaps.
 *
 * A snapshot covers an author's chain up to a seq (a *base*): those envelopes
 * are held through the snapshot, need not be fetched, and their links are
 * dropped, so memory stays bounded by what came after the last snapshot.
 */
export class ChainTracker {
  private readonly authors = new Map<string, Map<number, Link>>()
  private readonly bases = new Map<string, Base>()
  /** Per author: the highest seq reached without a hole, and the highest seen (gaps lie between). */
  private readonly tips = new Map<string, { contig: number; max: number }>()

  private tip(author: string): { contig: number; max: number } {
    let t = this.tips.get(author)
    if (!t) this.tips.set(author, (t = { contig: 0, max: 0 }))
    return t
  }

  /** Moves an author's hole-free tip over the links that now follow it. */
  private advance(author: string): void {
    const t = this.tip(author)
    const m = this.authors.get(author)
    while (m?.has(t.contig + 1)) t.contig++
    if (t.contig > t.max) t.max = t.contig
  }

  private links(author: string): Map<number, Link> {
    let m = this.authors.get(author)
    if (!m) this.authors.set(author, (m = new Map()))
    return m
  }

  check(author: string, seq: number, prevHash: Uint8Array, hash: Uint8Array): ChainVerdict {
    const base = this.bases.get(author)
    if (base && seq < base.seq) return { ok: true, duplicate: true } // held through a snapshot
    if (base && seq === base.seq) {
      if (sameBytes(base.hash, hash)) return { ok: true, duplicate: true }
      return { ok: false, code: 'E_EQUIVOCATION', message: `author ${author} signed two different envelopes with seq ${seq} (a snapshot covers ${toHex(base.hash)}, this is ${toHex(hash)})` }
    }
    const m = this.links(author)
    const same = m.get(seq)
    if (same) {
      if (sameBytes(same.hash, hash)) return { ok: true, duplicate: true }
      return { ok: false, code: 'E_EQUIVOCATION', message: `author ${author} signed two different envelopes with seq ${seq} (hashes ${toHex(same.hash)} and ${toHex(hash)})` }
    }
    if (seq === 1 && !sameBytes(prevHash, ZERO_HASH)) return { ok: false, code: 'E_CHAIN', message: `seq 1 of ${author} must have a zero prevHash` }
    const before = m.get(seq - 1) ?? (base && base.seq === seq - 1 ? base : undefined)
    if (before && !sameBytes(before.hash, prevHash)) {
      return { ok: false, code: 'E_CHAIN', message: `seq ${seq} of ${author} does not follow the envelope seen at seq ${seq - 1}` }
    }
    const after = m.get(seq + 1)
    if (after && !sameBytes(after.prevHash, hash)) {
      return { ok: false, code: 'E_CHAIN', message: `seq ${seq} of ${author} is not the one seq ${seq + 1} follows` }
    }
    return { ok: true, duplicate: false }
  }

  add(author: string, seq: number, prevHash: Uint8Array, hash: Uint8Array): void {
    const base = this.bases.get(author)
    if (base && seq <= base.seq) return
    this.links(author).set(seq, { hash, prevHash })
    const t = this.tip(author)
    if (seq > t.max) t.max = seq
    if (seq === t.contig + 1) this.advance(author)
  }

  /**
   * A snapshot holds the author's envelopes up to `seq`, the last with this
   * hash. Returns false (and changes nothing) when this device holds another
   * envelope at that seq: two histories of one author.
   */
  cover(author: string, seq: number, hash: Uint8Array): boolean {
    const base = this.bases.get(author)
    if (base && base.seq >= seq) return base.seq > seq || sameBytes(base.hash, hash)
    const m = this.links(author)
    const held = m.get(seq)
    if (held && !sameBytes(held.hash, hash)) return false
    this.bases.set(author, { seq, hash })
    for (const s of m.keys()) if (s <= seq) m.delete(s)
    const t = this.tip(author)
    t.contig = Math.max(t.contig, seq)
    this.advance(author)
    return true
  }

  /** Highest seq seen of an author, and its hash (what that author's next envelope must name). */
  head(author: string): { seq: number; hash: Uint8Array } {
    const seq = this.tips.get(author)?.max ?? 0
    return { seq, hash: this.authors.get(author)?.get(seq)?.hash ?? this.bases.get(author)?.hash ?? ZERO_HASH }
  }

  /** The link an author's envelope at `seq` made, if seen (a snapshot's base has no prevHash to give). */
  at(author: string, seq: number): { hash: Uint8Array; prevHash?: Uint8Array } | undefined {
    const base = this.bases.get(author)
    if (base && base.seq === seq) return { hash: base.hash }
    return this.authors.get(author)?.get(seq)
  }

  /** True when the author's envelope at `seq` is held, itself or through a snapshot. */
  holds(author: string, seq: number): boolean {
    return this.covered(author, seq) || (this.authors.get(author)?.has(seq) ?? false)
  }

  /** True when a snapshot covers the author's envelope at `seq` (its hash is then known only at the base itself). */
  covered(author: string, seq: number): boolean {
    return seq <= (this.bases.get(author)?.seq ?? 0)
  }

  /** Every author seen. */
  authorIds(): string[] {
    return [...new Set([...this.authors.keys(), ...this.bases.keys()])]
  }

  /** The highest seq of an author reached without a hole from 1 (or from a snapshot's base), and its hash. */
  contiguousHead(author: string): { seq: number; hash: Uint8Array } {
    const seq = this.tips.get(author)?.contig ?? 0
    return { seq, hash: this.authors.get(author)?.get(seq)?.hash ?? this.bases.get(author)?.hash ?? ZERO_HASH }
  }

  /** Missing seq ranges per author, e.g. { author, from: 3, to: 5 }; only authors with a hole cost anything. */
  gaps(): { author: string; from: number; to: number }[] {
    const out: { author: string; from: number; to: number }[] = []
    for (const [author, t] of this.tips) {
      if (t.max <= t.contig) continue
      const m = this.authors.get(author)
      let from = 0
      for (let s = t.contig + 1; s <= t.max; s++) {
        const held = m?.has(s) ?? false
        if (!held && from === 0) from = s
        if (held && from !== 0) {
          out.push({ author, from, to: s - 1 })
          from = 0
        }
      }
    }
    return out
  }
}
