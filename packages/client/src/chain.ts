import { toHex } from '@mindsync/crypto'
import { ZERO_HASH, sameBytes } from '@mindsync/protocol'

const HASH = 32
/** A seq this far beyond an author's highest held one goes to the sparse map instead of growing the arena (a relay can send any seq). */
const MAX_JUMP = 1 << 16

/** Where a snapshot says an author's chain stands: every seq up to `seq` is held through the snapshot. */
interface Base {
  seq: number
  hash: Uint8Array
}

/**
 * One author's chain. The hashes of held envelopes sit in one growing
 * buffer, 32 bytes per seq from `start`: a device keeps one per envelope of
 * every author, and one object per envelope (or a view that keeps a whole
 * received frame alive) would make a long-lived device's heap many times
 * larger and each garbage collection longer. Seqs far beyond the rest (only
 * a misbehaving relay sends those) go to a map of copies.
 */
interface Chain {
  start: number
  hashes: Uint8Array
  held: Uint8Array
  /** Slots in use: seqs start .. start + size - 1. */
  size: number
  far: Map<number, Uint8Array>
  /**
   * prevHash of an envelope whose predecessor was not held when it arrived
   * (or differed from it). Every other envelope names its predecessor's hash,
   * as checked before it was added, so storing it again would only cost memory.
   */
  prevs: Map<number, Uint8Array>
  base?: Base
  /** The highest seq reached without a hole, and the highest seen (gaps lie between). */
  contig: number
  max: number
}

export type ChainVerdict =
  | { ok: true; duplicate: boolean }
  | { ok: false; code: 'E_EQUIVOCATION' | 'E_CHAIN'; message: string }

const DUPLICATE: ChainVerdict = { ok: true, duplicate: true }
const FITS: ChainVerdict = { ok: true, duplicate: false }

/** The 32 bytes at `offset` of `arena` equal `h`. */
function equalAt(arena: Uint8Array, offset: number, h: Uint8Array): boolean {
  for (let i = 0; i < HASH; i++) if (arena[offset + i] !== h[i]) return false
  return true
}

/** Reads and writes of one chain's hashes, wherever a seq lives. */
const slots = {
  index(c: Chain, seq: number): number {
    const i = seq - c.start
    return i >= 0 && i < c.size && c.held[i] === 1 ? i : -1
  },
  has(c: Chain, seq: number): boolean {
    return slots.index(c, seq) >= 0 || c.far.has(seq)
  },
  /** A copy of the hash held at `seq`. */
  get(c: Chain, seq: number): Uint8Array | undefined {
    const i = slots.index(c, seq)
    if (i >= 0) return c.hashes.slice(i * HASH, (i + 1) * HASH)
    return c.far.get(seq)?.slice()
  },
  /** Whether the hash held at `seq` is `h`; undefined when `seq` is not held. */
  equals(c: Chain, seq: number, h: Uint8Array): boolean | undefined {
    const i = slots.index(c, seq)
    if (i >= 0) return equalAt(c.hashes, i * HASH, h)
    const f = c.far.get(seq)
    return f === undefined ? undefined : sameBytes(f, h)
  },
  set(c: Chain, seq: number, h: Uint8Array): void {
    const i = seq - c.start
    if (i < 0 || i >= c.size + MAX_JUMP) {
      c.far.set(seq, h.slice())
      return
    }
    if (i >= c.held.length) {
      let cap = Math.max(64, c.held.length * 2)
      while (cap <= i) cap *= 2
      const hashes = new Uint8Array(cap * HASH)
      hashes.set(c.hashes.subarray(0, c.size * HASH))
      const held = new Uint8Array(cap)
      held.set(c.held.subarray(0, c.size))
      c.hashes = hashes
      c.held = held
    }
    c.hashes.set(h, i * HASH)
    c.held[i] = 1
    if (i >= c.size) c.size = i + 1
    if (c.far.size > 0) c.far.delete(seq)
  },
  /** Forgets every seq up to `seq` (now held through a snapshot). */
  dropThrough(c: Chain, seq: number): void {
    const n = Math.min(c.size, seq + 1 - c.start)
    if (n > 0) {
      c.hashes.copyWithin(0, n * HASH, c.size * HASH)
      c.held.copyWithin(0, n, c.size)
      c.held.fill(0, c.size - n, c.size)
      c.size -= n
    }
    if (seq + 1 > c.start) c.start = seq + 1
    for (const s of c.far.keys()) if (s <= seq) c.far.delete(s)
    for (const s of c.prevs.keys()) if (s <= seq) c.prevs.delete(s)
  },
}

/**
 * Per author (and doc): the hash chain of envelopes seen. Order-independent:
 * an envelope fits when it agrees with both neighbours it has, so envelopes
 * may arrive late or out of order; missing ones are reported as gaps.
 *
 * A snapshot covers an author's chain up to a seq (a *base*): those envelopes
 * are held through the snapshot, need not be fetched, and their links are
 * dropped, so memory stays bounded by what came after the last snapshot.
 * Hashes handed out are copies: callers may keep them.
 */
export class ChainTracker {
  private readonly chains = new Map<string, Chain>()

  private chain(author: string): Chain {
    let c = this.chains.get(author)
    if (!c) {
      c = { start: 1, hashes: new Uint8Array(0), held: new Uint8Array(0), size: 0, far: new Map(), prevs: new Map(), contig: 0, max: 0 }
      this.chains.set(author, c)
    }
    return c
  }

  /** Moves an author's hole-free tip over the links that now follow it. */
  private static advance(c: Chain): void {
    while (slots.has(c, c.contig + 1)) c.contig++
    if (c.contig > c.max) c.max = c.contig
  }

  /** Whether the envelope at `seq` (itself, or a snapshot's base) has hash `h`; undefined when neither is held. */
  private static hashIs(c: Chain, seq: number, h: Uint8Array): boolean | undefined {
    if (c.base && c.base.seq === seq) return sameBytes(c.base.hash, h)
    return slots.equals(c, seq, h)
  }

  /** Whether what the envelope at `seq` names as its predecessor's hash is `h`; undefined when `seq` is not held. */
  private static prevIs(c: Chain, seq: number, h: Uint8Array): boolean | undefined {
    if (!slots.has(c, seq)) return undefined
    const p = c.prevs.get(seq)
    if (p) return sameBytes(p, h)
    return seq === 1 ? sameBytes(ZERO_HASH, h) : ChainTracker.hashIs(c, seq - 1, h)
  }

  /** The prevHash the envelope at `seq` names, if held. */
  private static prevOf(c: Chain, seq: number): Uint8Array | undefined {
    if (!slots.has(c, seq)) return undefined
    const p = c.prevs.get(seq)
    if (p) return p.slice()
    if (seq === 1) return ZERO_HASH.slice()
    if (c.base && c.base.seq === seq - 1) return c.base.hash.slice()
    return slots.get(c, seq - 1)
  }

  check(author: string, seq: number, prevHash: Uint8Array, hash: Uint8Array): ChainVerdict {
    const c = this.chains.get(author)
    const base = c?.base
    if (base && seq < base.seq) return DUPLICATE // held through a snapshot
    if (base && seq === base.seq) {
      if (sameBytes(base.hash, hash)) return DUPLICATE
      return { ok: false, code: 'E_EQUIVOCATION', message: `author ${author} signed two different envelopes with seq ${seq} (a snapshot covers ${toHex(base.hash)}, this is ${toHex(hash)})` }
    }
    const same = c ? slots.equals(c, seq, hash) : undefined
    if (same === true) return DUPLICATE
    if (same === false) {
      return { ok: false, code: 'E_EQUIVOCATION', message: `author ${author} signed two different envelopes with seq ${seq} (hashes ${toHex(slots.get(c as Chain, seq) as Uint8Array)} and ${toHex(hash)})` }
    }
    if (seq === 1 && !sameBytes(prevHash, ZERO_HASH)) return { ok: false, code: 'E_CHAIN', message: `seq 1 of ${author} must have a zero prevHash` }
    if (!c) return FITS
    if (ChainTracker.hashIs(c, seq - 1, prevHash) === false) {
      return { ok: false, code: 'E_CHAIN', message: `seq ${seq} of ${author} does not follow the envelope seen at seq ${seq - 1}` }
    }
    if (ChainTracker.prevIs(c, seq + 1, hash) === false) {
      return { ok: false, code: 'E_CHAIN', message: `seq ${seq} of ${author} is not the one seq ${seq + 1} follows` }
    }
    return FITS
  }

  /** Records an envelope (after check, or one this device sealed or stored); a seq already held takes the new hash. */
  add(author: string, seq: number, prevHash: Uint8Array, hash: Uint8Array): void {
    const c = this.chain(author)
    if (c.base && seq <= c.base.seq) return
    // A seq sealed again: the envelope after it still names the old hash until it is replaced too.
    const old = slots.get(c, seq)
    if (old && !sameBytes(old, hash) && slots.has(c, seq + 1) && !c.prevs.has(seq + 1)) c.prevs.set(seq + 1, old)
    // The next envelope named this one's hash: it need not say so separately any more.
    const next = c.prevs.get(seq + 1)
    if (next && sameBytes(next, hash)) c.prevs.delete(seq + 1)
    slots.set(c, seq, hash)
    const follows = seq === 1 ? sameBytes(ZERO_HASH, prevHash) : ChainTracker.hashIs(c, seq - 1, prevHash) === true
    if (follows) c.prevs.delete(seq)
    else c.prevs.set(seq, prevHash.slice())
    if (seq > c.max) c.max = seq
    if (seq === c.contig + 1) ChainTracker.advance(c)
  }

  /**
   * A snapshot holds the author's envelopes up to `seq`, the last with this
   * hash. Returns false (and changes nothing) when this device holds another
   * envelope at that seq: two histories of one author.
   */
  cover(author: string, seq: number, hash: Uint8Array): boolean {
    const c = this.chain(author)
    if (c.base && c.base.seq >= seq) return c.base.seq > seq || sameBytes(c.base.hash, hash)
    if (slots.equals(c, seq, hash) === false) return false
    // The envelope after the base keeps naming its predecessor, which is now the base.
    const next = ChainTracker.prevOf(c, seq + 1)
    c.base = { seq, hash: hash.slice() }
    slots.dropThrough(c, seq)
    if (next !== undefined && !sameBytes(next, hash)) c.prevs.set(seq + 1, next)
    c.contig = Math.max(c.contig, seq)
    ChainTracker.advance(c)
    return true
  }

  /** Highest seq seen of an author, and its hash (what that author's next envelope must name). */
  head(author: string): { seq: number; hash: Uint8Array } {
    return this.headAt(author, this.chains.get(author)?.max ?? 0)
  }

  private headAt(author: string, seq: number): { seq: number; hash: Uint8Array } {
    const c = this.chains.get(author)
    const h = c && (slots.get(c, seq) ?? c.base?.hash.slice())
    return { seq, hash: h ?? ZERO_HASH }
  }

  /** The link an author's envelope at `seq` made, if seen (a snapshot's base has no prevHash to give). */
  at(author: string, seq: number): { hash: Uint8Array; prevHash?: Uint8Array } | undefined {
    const c = this.chains.get(author)
    if (!c) return undefined
    if (c.base && c.base.seq === seq) return { hash: c.base.hash.slice() }
    const hash = slots.get(c, seq)
    if (!hash) return undefined
    const prevHash = ChainTracker.prevOf(c, seq)
    return prevHash ? { hash, prevHash } : { hash }
  }

  /** True when the author's envelope at `seq` is held, itself or through a snapshot. */
  holds(author: string, seq: number): boolean {
    const c = this.chains.get(author)
    return this.covered(author, seq) || (c !== undefined && slots.has(c, seq))
  }

  /** True when a snapshot covers the author's envelope at `seq` (its hash is then known only at the base itself). */
  covered(author: string, seq: number): boolean {
    return seq <= (this.chains.get(author)?.base?.seq ?? 0)
  }

  /** Every author seen. */
  authorIds(): string[] {
    return [...this.chains.keys()]
  }

  /** The highest seq of an author reached without a hole from 1 (or from a snapshot's base), and its hash. */
  contiguousHead(author: string): { seq: number; hash: Uint8Array } {
    return this.headAt(author, this.chains.get(author)?.contig ?? 0)
  }

  /** True when some author's chain has a hole (cheaper than gaps() when there is none). */
  hasGaps(): boolean {
    for (const c of this.chains.values()) if (c.max > c.contig) return true
    return false
  }

  /** Missing seq ranges per author, e.g. { author, from: 3, to: 5 }; only authors with a hole cost anything. */
  gaps(): { author: string; from: number; to: number }[] {
    const out: { author: string; from: number; to: number }[] = []
    for (const [author, c] of this.chains) {
      if (c.max <= c.contig) continue
      // Held seqs above the hole-free tip, in order: the arena's, then the sparse ones.
      const held: number[] = []
      for (let i = Math.max(0, c.contig + 1 - c.start); i < c.size; i++) if (c.held[i] === 1) held.push(c.start + i)
      for (const s of c.far.keys()) if (s > c.contig) held.push(s)
      if (c.far.size > 0) held.sort((a, b) => a - b)
      let next = c.contig + 1
      for (const s of held) {
        if (s > next) out.push({ author, from: next, to: s - 1 })
        next = s + 1
      }
    }
    return out
  }
}
