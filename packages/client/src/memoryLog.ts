import type { LocalEnvelope } from './localStore.js'

const CHUNK_BYTES = 256 * 1024

/**
 * A chunk is only ever read up to what was written into it, so it need not
 * be zeroed first: zeroing touches every page once more before the copies
 * do (filling 256 KiB chunks with 600-byte envelopes: 0.5–1.8 µs per
 * envelope zeroed, 0.3–0.5 µs not, in a micro-benchmark here). Node's
 * Buffer.allocUnsafeSlow gives such memory, unpooled; elsewhere a plain array.
 */
const unzeroed = (globalThis as { Buffer?: { allocUnsafeSlow(size: number): Uint8Array } }).Buffer
/** A plain Uint8Array over the memory: a Buffer's slice() would be a view, and envelope() promises a copy ([ST3], [ST5] fail otherwise). */
function allocChunk(size: number): Uint8Array {
  if (!unzeroed) return new Uint8Array(size)
  const b = unzeroed.allocUnsafeSlow(size)
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

/**
 * One doc's envelopes in memory, in columns: authors, seqs and server seqs in
 * typed arrays, the envelope bytes packed one after another in chunks. A
 * device holds thousands of envelopes per doc until a snapshot compacts
 * them; as objects (an entry and a byte array each) they would be most of
 * what every garbage collection walks, here they are a few buffers. Chunks
 * are never copied to grow: copying megabytes would stall the event loop.
 */
export class EnvelopeLog {
  private authors: string[] = []
  private readonly authorIndex = new Map<string, number>()
  private authorOf = new Uint32Array(64)
  private seqOf = new Float64Array(64)
  /** -1: not known yet (an own envelope before its acknowledgement, or one received before the relay stored it). */
  private serverSeqOf = new Float64Array(64)
  private chunkOf = new Uint32Array(64)
  private startOf = new Uint32Array(64)
  private lengthOf = new Uint32Array(64)
  private chunks: Uint8Array[] = []
  private used = 0
  length = 0

  /** Appends a copy of the envelope; returns its row. */
  push(author: string, seq: number, serverSeq: number | null, envelope: Uint8Array): number {
    assertBytes(envelope)
    if (this.length === this.seqOf.length) this.growRows(this.length * 2)
    let a = this.authorIndex.get(author)
    if (a === undefined) {
      a = this.authors.length
      this.authors.push(author)
      this.authorIndex.set(author, a)
    }
    const row = this.length++
    this.authorOf[row] = a
    this.seqOf[row] = seq
    this.serverSeqOf[row] = serverSeq ?? -1
    this.place(row, envelope)
    return row
  }

  author(row: number): string {
    return this.authors[this.authorOf[row] as number] as string
  }

  seq(row: number): number {
    return this.seqOf[row] as number
  }

  /** The stored bytes, as a copy the caller may keep. */
  envelope(row: number): Uint8Array {
    return this.view(row).slice()
  }

  entry(row: number): LocalEnvelope {
    const s = this.serverSeqOf[row] as number
    return { author: this.author(row), seq: this.seq(row), serverSeq: s < 0 ? null : s, envelope: this.envelope(row) }
  }

  setServerSeq(row: number, serverSeq: number): void {
    this.serverSeqOf[row] = serverSeq
  }

  /** New bytes for a row (an envelope sealed again); the old ones stay until the next compaction. */
  replace(row: number, envelope: Uint8Array): void {
    assertBytes(envelope)
    this.place(row, envelope)
  }

  /** Keeps the rows `keep` says, in order, in fresh chunks; returns each kept row's new index (-1 for dropped ones). */
  retain(keep: (row: number) => boolean): Int32Array {
    const moved = new Int32Array(this.length).fill(-1)
    const kept: number[] = []
    for (let r = 0; r < this.length; r++) if (keep(r)) kept.push(r)
    const bytes = kept.map((r) => this.view(r))
    this.chunks = []
    this.used = 0
    kept.forEach((r, n) => {
      this.authorOf[n] = this.authorOf[r] as number
      this.seqOf[n] = this.seqOf[r] as number
      this.serverSeqOf[n] = this.serverSeqOf[r] as number
      this.place(n, bytes[n] as Uint8Array)
      moved[r] = n
    })
    this.length = kept.length
    return moved
  }

  private view(row: number): Uint8Array {
    const start = this.startOf[row] as number
    return (this.chunks[this.chunkOf[row] as number] as Uint8Array).subarray(start, start + (this.lengthOf[row] as number))
  }

  private place(row: number, envelope: Uint8Array): void {
    let chunk = this.chunks[this.chunks.length - 1]
    if (!chunk || this.used + envelope.length > chunk.length) {
      chunk = allocChunk(Math.max(CHUNK_BYTES, envelope.length))
      this.chunks.push(chunk)
      this.used = 0
    }
    chunk.set(envelope, this.used)
    this.chunkOf[row] = this.chunks.length - 1
    this.startOf[row] = this.used
    this.lengthOf[row] = envelope.length
    this.used += envelope.length
  }

  private growRows(rows: number): void {
    const grow = <T extends Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(rows)
      b.set(a)
      return b
    }
    this.authorOf = grow(this.authorOf, (n) => new Uint32Array(n))
    this.seqOf = grow(this.seqOf, (n) => new Float64Array(n))
    this.serverSeqOf = grow(this.serverSeqOf, (n) => new Float64Array(n))
    this.chunkOf = grow(this.chunkOf, (n) => new Uint32Array(n))
    this.startOf = grow(this.startOf, (n) => new Uint32Array(n))
    this.lengthOf = grow(this.lengthOf, (n) => new Uint32Array(n))
  }
}

/** Checked before anything changes, so a bad value leaves no trace (rule ST10). */
export function assertBytes(value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`envelope must be a Uint8Array, got ${value === null ? 'null' : typeof value}`)
}
