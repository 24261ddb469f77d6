/** An envelope as a device keeps it: always sealed, never plaintext. */
export interface LocalEnvelope {
  /** Hex device id of the author. */
  author: string
  /** The author's sequence number for this doc. */
  seq: number
  /** The relay's sequence number, once known. */
  serverSeq: number | null
  envelope: Uint8Array
}

/** An own envelope waiting for the relay's acknowledgement. */
export interface OutboxEntry {
  seq: number
  envelope: Uint8Array
}

/**
 * Durable storage of one device: small values (identity, settings), the
 * membership log, and per doc the sealed envelopes, the outbox and the
 * relay cursor. Docs are named by their hex doc id. Every method is one
 * atomic write or a consistent read; adapters live in their own packages
 * and pass the shared suite in `@mindsync/client/testing`.
 */
export interface LocalStore {
  getMeta(key: string): Promise<Uint8Array | undefined>
  setMeta(key: string, value: Uint8Array): Promise<void>
  deleteMeta(key: string): Promise<void>
  /** The membership log, in index order. */
  listOps(): Promise<Uint8Array[]>
  /** Stores ops at indexes from, from + 1, …; indexes already stored are left as they are. */
  putOps(from: number, ops: Uint8Array[]): Promise<void>
  /** Adds an own envelope to the doc's log and to its outbox, atomically. */
  addLocal(docId: string, item: { author: string; seq: number; envelope: Uint8Array }): Promise<void>
  /** Adds received envelopes and moves the doc's cursor, atomically. The cursor never moves back. */
  addReceived(docId: string, items: LocalEnvelope[], cursor: number): Promise<void>
  /** Every envelope of the doc, in the order stored. */
  listEnvelopes(docId: string): Promise<LocalEnvelope[]>
  /** Own envelopes not yet acknowledged, by seq. */
  listOutbox(docId: string): Promise<OutboxEntry[]>
  /**
   * Replaces the bytes of own envelopes still in the outbox (by seq), in the
   * log and the outbox at once; seqs no longer in the outbox are left alone.
   * Used to seal unacknowledged changes again under a new epoch.
   */
  rewriteOutbox(docId: string, items: OutboxEntry[]): Promise<void>
  /** Records the relay's acknowledgement: the entry leaves the outbox. */
  acknowledge(docId: string, seq: number, serverSeq: number): Promise<void>
  /**
   * Deletes the doc's envelopes a snapshot covers: every stored envelope whose
   * author appears in `covers` with seq <= that author's covered seq — except
   * the snapshot itself (`snapshot.author`/`snapshot.seq`) and any envelope
   * still in the outbox (own, unacknowledged: it must still be pushed in order).
   * One atomic write. Returns how many envelopes were deleted. The cursor is unchanged.
   */
  compact(docId: string, snapshot: { author: string; seq: number }, covers: { author: string; seq: number }[]): Promise<number>
  /** The last relay sequence number received for the doc (0 if none). */
  getCursor(docId: string): Promise<number>
  close(): Promise<void>
}
