import { toHex } from '@mindsync/crypto'
import { ZERO_HASH, sameBytes } from '@mindsync/protocol'

interface Link {
  hash: Uint8Array
  prevHash: Uint8Array
}

export type ChainVerdict =
  | { ok: true; duplicate: boolean }
  | { ok: false; code: 'E_EQUIVOCATION' | 'E_CHAIN'; message: string }

/**
 * Per author (and doc): the hash chain of envelopes seen. Order-independent:
 * an envelope fits when it agrees with both neighbours it has, so envelopes
 * may arrive late or out of order; missing ones are reported as gaps.
 */
export class ChainTracker {
  private readonly authors = new Map<string, Map<number, Link>>()

  private links(author: string): Map<number, Link> {
    let m = this.authors.get(author)
    if (!m) this.authors.set(author, (m = new Map()))
    return m
  }

  check(author: string, seq: number, prevHash: Uint8Array, hash: Uint8Array): ChainVerdict {
    const m = this.links(author)
    const same = m.get(seq)
    if (same) {
      if (sameBytes(same.hash, hash)) return { ok: true, duplicate: true }
      return { ok: false, code: 'E_EQUIVOCATION', message: `author ${author} signed two different envelopes with seq ${seq} (hashes ${toHex(same.hash)} and ${toHex(hash)})` }
    }
    if (seq === 1 && !sameBytes(prevHash, ZERO_HASH)) return { ok: false, code: 'E_CHAIN', message: `seq 1 of ${author} must have a zero prevHash` }
    const before = m.get(seq - 1)
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
    this.links(author).set(seq, { hash, prevHash })
  }

  /** Highest seq seen of an author, and its hash (what that author's next envelope must name). */
  head(author: string): { seq: number; hash: Uint8Array } {
    let best = 0
    for (const s of this.links(author).keys()) if (s > best) best = s
    const link = this.links(author).get(best)
    return { seq: best, hash: link ? link.hash : ZERO_HASH }
  }

  /** The link an author's envelope at `seq` made, if seen. */
  at(author: string, seq: number): { hash: Uint8Array; prevHash: Uint8Array } | undefined {
    return this.authors.get(author)?.get(seq)
  }

  /** Every author seen. */
  authorIds(): string[] {
    return [...this.authors.keys()]
  }

  /** The highest seq of an author reached without a hole from 1, and its hash. */
  contiguousHead(author: string): { seq: number; hash: Uint8Array } {
    const m = this.authors.get(author)
    let seq = 0
    while (m?.has(seq + 1)) seq++
    return { seq, hash: m?.get(seq)?.hash ?? ZERO_HASH }
  }

  /** Missing seq ranges per author, e.g. { author, from: 3, to: 5 }. */
  gaps(): { author: string; from: number; to: number }[] {
    const out: { author: string; from: number; to: number }[] = []
    for (const [author, m] of this.authors) {
      const seqs = [...m.keys()].sort((a, b) => a - b)
      let expect = 1
      for (const s of seqs) {
        if (s > expect) out.push({ author, from: expect, to: s - 1 })
        expect = s + 1
      }
    }
    return out
  }
}
