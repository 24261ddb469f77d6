import { toHex } from '@mindsync/crypto'
import { ZERO_HASH, sameBytes } from '@mindsync/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ChainTracker } from './chain.js'

// The tracker as it was before it packed hashes into buffers: plain maps of
// links, easy to read. The property below runs both on the same operations.

interface Link {
  hash: Uint8Array
  prevHash: Uint8Array
}

/** Where a snapshot says an author's chain stands: every seq up to `seq` is held through the snapshot. */
interface Base {
  seq: number
  hash: Uint8Array
}

type RefVerdict =
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
class ReferenceChain {
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

  check(author: string, seq: number, prevHash: Uint8Array, hash: Uint8Array): RefVerdict {
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


const hashOf = (author: number, seq: number, variant: number): Uint8Array => {
  const h = new Uint8Array(32)
  h[0] = author
  h[1] = seq & 255
  h[2] = (seq >> 8) & 255
  h[3] = (seq >> 16) & 255
  h[4] = variant
  return h
}

type Op =
  | { kind: 'add'; author: number; seq: number; variant: number; prevVariant: number }
  | { kind: 'cover'; author: number; seq: number; variant: number }

const seqArb = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 70_000, max: 70_010 }))
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('add' as const), author: fc.integer({ min: 0, max: 2 }), seq: seqArb, variant: fc.integer({ min: 0, max: 2 }), prevVariant: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cover' as const), author: fc.integer({ min: 0, max: 2 }), seq: seqArb, variant: fc.integer({ min: 0, max: 1 }) }) },
)

/** Mostly well-chained envelopes (variant 0 names variant 0 before it), some conflicting ones. */
function apply(t: { check: ChainTracker['check']; add: ChainTracker['add']; cover: ChainTracker['cover'] }, op: Op): unknown {
  const a = `a${op.author}`
  if (op.kind === 'cover') return t.cover(a, op.seq, hashOf(op.author, op.seq, op.variant))
  const prev = op.seq === 1 && op.prevVariant === 0 ? ZERO_HASH : hashOf(op.author, op.seq - 1, op.prevVariant)
  const hash = hashOf(op.author, op.seq, op.variant)
  const verdict = t.check(a, op.seq, prev, hash)
  // Only what checks is added, as a device does.
  if (verdict.ok && !verdict.duplicate) t.add(a, op.seq, prev, hash)
  return verdict
}

function views(t: ChainTracker | ReferenceChain): unknown {
  const authors = ['a0', 'a1', 'a2']
  const probe = [1, 2, 3, 5, 8, 13, 21, 39, 40, 70_000, 70_005, 70_010]
  return {
    gaps: t.gaps(),
    // The packed tracker's shortcut must agree with its own gaps (the model has none).
    hasGaps: t instanceof ChainTracker ? t.hasGaps() : t.gaps().length > 0,
    heads: authors.map((a) => [t.head(a), t.contiguousHead(a)]),
    at: authors.map((a) => probe.map((s) => [t.at(a, s), t.holds(a, s), t.covered(a, s)])),
  }
}

describe('ChainTracker against the plain-map model', () => {
  it('[CT1] gives the same verdicts, heads, gaps and links for any sequence of adds and covers', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const packed = new ChainTracker()
        const model = new ReferenceChain()
        for (const op of ops) expect(apply(packed, op)).toEqual(apply(model, op))
        expect(views(packed)).toEqual(views(model))
        // The model also lists authors it was only asked about; both list every author they hold something of.
        const holding = (t: ChainTracker | ReferenceChain) => t.authorIds().filter((a) => t.head(a).seq > 0).sort()
        expect(holding(packed)).toEqual(holding(model))
      }),
      { numRuns: Number(process.env.CHAIN_RUNS ?? 300) },
    )
  })

  it('[CT2] an envelope sealed again replaces the hash its successor is checked against only once that successor is replaced too', () => {
    const t = new ChainTracker()
    t.add('me', 1, ZERO_HASH, hashOf(9, 1, 0))
    t.add('me', 2, hashOf(9, 1, 0), hashOf(9, 2, 0))
    t.add('me', 1, ZERO_HASH, hashOf(9, 1, 1)) // sealed again under a new epoch
    expect(t.at('me', 2)).toEqual({ hash: hashOf(9, 2, 0), prevHash: hashOf(9, 1, 0) })
    t.add('me', 2, hashOf(9, 1, 1), hashOf(9, 2, 1))
    expect(t.at('me', 2)).toEqual({ hash: hashOf(9, 2, 1), prevHash: hashOf(9, 1, 1) })
    expect(t.check('me', 3, hashOf(9, 2, 1), hashOf(9, 3, 0))).toEqual({ ok: true, duplicate: false })
  })
})

void toHex
void sameBytes
