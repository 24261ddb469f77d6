import { toHex } from '@mindsync/crypto'
import { ZERO_HASH } from '@mindsync/protocol'

/**
 * A 32-byte hash as a string of 32 char codes (0–255): one small heap
 * object, compared with `===`. A tracker holds one per envelope of every
 * author, so typed arrays (each with its own buffer, or a view that keeps a
 * whole received frame alive) would make a long-lived device's heap many
 * times larger and its garbage collections longer.
 */
export type HashKey = string

const ZERO_KEY = keyOf(ZERO_HASH)

/** The key a tracker keeps for a 32-byte hash (computed once per envelope by callers that check and add it). */
export function keyOf(h: Uint8Array): HashKey {
  if (h.length !== 32) return String.fromCharCode.apply(null, h as unknown as number[])
  // Spelled out: several times faster than apply() on a typed array, and this runs for every envelope.
  const c = String.fromCharCode
  return (
    c(h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!, h[8]!, h[9]!, h[10]!, h[11]!, h[12]!, h[13]!, h[14]!, h[15]!) +
    c(h[16]!, h[17]!, h[18]!, h[19]!, h[20]!, h[21]!, h[22]!, h[23]!, h[24]!, h[25]!, h[26]!, h[27]!, h[28]!, h[29]!, h[30]!, h[31]!)
  )
}

function bytesOf(key: HashKey): Uint8Array {
  const out = new Uint8Array(key.length)
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i)
  return out
}

/** Where a snapshot says an author's chain stands: every seq up to `seq` is held through the snapshot. */
interface Base {
  seq: number
  hash: HashKey
}

/** One author's chain: the hash of each envelope held, and the prevHash of those whose predecessor is not held. */
interface Chain {
  hashes: Map<number, HashKey>
  /**
   * prevHash of an envelope whose predecessor was not held when it arrived
   * (or differed from it). Every other envelope names its predecessor's hash,
   * as checked before it was added, so storing it again would only cost memory.
   */
  prevs: Map<number, HashKey>
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

const hex = (key: HashKey): string => toHex(bytesOf(key))

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
    if (!c) this.chains.set(author, (c = { hashes: new Map(), prevs: new Map(), contig: 0, max: 0 }))
    return c
  }

  /** Moves an author's hole-free tip over the links that now follow it. */
  private static advance(c: Chain): void {
    while (c.hashes.has(c.contig + 1)) c.contig++
    if (c.contig > c.max) c.max = c.contig
  }

  /** The hash an author's envelope at `seq` has, if held (itself or as a snapshot's base). */
  private static hashAt(c: Chain, seq: number): HashKey | undefined {
    return c.hashes.get(seq) ?? (c.base && c.base.seq === seq ? c.base.hash : undefined)
  }

  /** What the envelope at `seq` names as its predecessor's hash, if it is held. */
  private static prevAt(c: Chain, seq: number): HashKey | undefined {
    if (!c.hashes.has(seq)) return undefined
    return c.prevs.get(seq) ?? (seq === 1 ? ZERO_KEY : ChainTracker.hashAt(c, seq - 1))
  }

  check(author: string, seq: number, prevHash: Uint8Array, hash: Uint8Array): ChainVerdict {
    return this.checkKeys(author, seq, keyOf(prevHash), keyOf(hash))
  }

  /** check() with the hashes already turned into keys (keyOf). */
  checkKeys(author: string, seq: number, p: HashKey, h: HashKey): ChainVerdict {
    const c = this.chains.get(author)
    const base = c?.base
    if (base && seq < base.seq) return DUPLICATE // held through a snapshot
    if (base && seq === base.seq) {
      if (base.hash === h) return DUPLICATE
      return { ok: false, code: 'E_EQUIVOCATION', message: `author ${author} signed two different envelopes with seq ${seq} (a snapshot covers ${hex(base.hash)}, this is ${hex(h)})` }
    }
    const same = c?.hashes.get(seq)
    if (same !== undefined) {
      if (same === h) return DUPLICATE
      return { ok: false, code: 'E_EQUIVOCATION', message: `author ${author} signed two different envelopes with seq ${seq} (hashes ${hex(same)} and ${hex(h)})` }
    }
    if (seq === 1 && p !== ZERO_KEY) return { ok: false, code: 'E_CHAIN', message: `seq 1 of ${author} must have a zero prevHash` }
    if (!c) return FITS
    const before = ChainTracker.hashAt(c, seq - 1)
    if (before !== undefined && before !== p) {
      return { ok: false, code: 'E_CHAIN', message: `seq ${seq} of ${author} does not follow the envelope seen at seq ${seq - 1}` }
    }
    const after = ChainTracker.prevAt(c, seq + 1)
    if (after !== undefined && after !== h) {
      return { ok: false, code: 'E_CHAIN', message: `seq ${seq} of ${author} is not the one seq ${seq + 1} follows` }
    }
    return FITS
  }

  /** Records an envelope (after check, or one this device sealed or stored); a seq already held takes the new hash. */
  add(author: string, seq: number, prevHash: Uint8Array, hash: Uint8Array): void {
    this.addKeys(author, seq, keyOf(prevHash), keyOf(hash))
  }

  /** add() with the hashes already turned into keys (keyOf). */
  addKeys(author: string, seq: number, p: HashKey, h: HashKey): void {
    const c = this.chain(author)
    if (c.base && seq <= c.base.seq) return
    // A seq sealed again: the envelope after it still names the old hash until it is replaced too.
    const old = c.hashes.get(seq)
    if (old !== undefined && old !== h && c.hashes.has(seq + 1) && !c.prevs.has(seq + 1)) c.prevs.set(seq + 1, old)
    // The next envelope named this one's hash: it need not say so separately any more.
    if (c.prevs.get(seq + 1) === h) c.prevs.delete(seq + 1)
    c.hashes.set(seq, h)
    const before = seq === 1 ? ZERO_KEY : ChainTracker.hashAt(c, seq - 1)
    if (before === p) c.prevs.delete(seq)
    else c.prevs.set(seq, p)
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
    const h = keyOf(hash)
    if (c.base && c.base.seq >= seq) return c.base.seq > seq || c.base.hash === h
    const held = c.hashes.get(seq)
    if (held !== undefined && held !== h) return false
    // The envelope after the base keeps naming its predecessor, which is now the base.
    const next = ChainTracker.prevAt(c, seq + 1)
    c.base = { seq, hash: h }
    for (const s of c.hashes.keys()) if (s <= seq) c.hashes.delete(s)
    for (const s of c.prevs.keys()) if (s <= seq) c.prevs.delete(s)
    if (next !== undefined && next !== h) c.prevs.set(seq + 1, next)
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
    const h = c && (c.hashes.get(seq) ?? c.base?.hash)
    return { seq, hash: h === undefined ? ZERO_HASH : bytesOf(h) }
  }

  /** The link an author's envelope at `seq` made, if seen (a snapshot's base has no prevHash to give). */
  at(author: string, seq: number): { hash: Uint8Array; prevHash?: Uint8Array } | undefined {
    const c = this.chains.get(author)
    if (!c) return undefined
    if (c.base && c.base.seq === seq) return { hash: bytesOf(c.base.hash) }
    const h = c.hashes.get(seq)
    if (h === undefined) return undefined
    const p = ChainTracker.prevAt(c, seq)
    return p === undefined ? { hash: bytesOf(h) } : { hash: bytesOf(h), prevHash: bytesOf(p) }
  }

  /** True when the author's envelope at `seq` is held, itself or through a snapshot. */
  holds(author: string, seq: number): boolean {
    return this.covered(author, seq) || (this.chains.get(author)?.hashes.has(seq) ?? false)
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

  /** Missing seq ranges per author, e.g. { author, from: 3, to: 5 }; only authors with a hole cost anything. */
  gaps(): { author: string; from: number; to: number }[] {
    const out: { author: string; from: number; to: number }[] = []
    for (const [author, c] of this.chains) {
      if (c.max <= c.contig) continue
      let from = 0
      for (let s = c.contig + 1; s <= c.max; s++) {
        const held = c.hashes.has(s)
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
