/**
 * What the relay keeps durably. A handful of async methods over `Uint8Array`
 * values, so an engine on another machine (a SQL server, a replicated log)
 * can implement it later; the rules every implementation must follow are in
 * SPEC.md and checked by `runRelayStorageTests` from `@mindsync/relay/testing`.
 *
 * The storage never interprets ops or envelopes: the relay core verifies
 * them and hands the storage plain bytes plus the few ids it indexes by.
 */
export interface RelayStorage {
  /** This relay's 16-byte id, created on first use and stable afterwards (devices sign it, so a signature cannot be replayed to another relay). */
  relayId(): Promise<Uint8Array>

  /** Every membership op of the vault in log order, or `undefined` when the vault is unknown. */
  loadOps(vaultId: Uint8Array): Promise<Uint8Array[] | undefined>

  /**
   * Compare-and-set append of the op at `index`: stores it only when `index`
   * equals the number of ops already stored (index 0 creates the vault) and
   * returns true; returns false and changes nothing otherwise.
   * `addedDeviceId` is the device the op admits (genesis and add ops), which
   * `memberVaults` indexes.
   */
  appendOp(vaultId: Uint8Array, index: number, op: Uint8Array, addedDeviceId?: Uint8Array): Promise<boolean>

  /** Ids of the vaults an op admitted this device to (removed or not; the core checks), oldest first. */
  memberVaults(deviceId: Uint8Array): Promise<Uint8Array[]>

  /**
   * Appends a batch of envelopes in ONE atomic, durable write and returns
   * their server sequence numbers, in batch order. Server sequence numbers
   * are per (vault, doc), start at 1 and have no gaps. When any record
   * repeats a stored (vault, doc, device, seq), the whole batch is refused
   * (the promise rejects) and nothing is stored.
   */
  appendEnvelopes(batch: readonly EnvelopeRecord[]): Promise<number[]>

  /**
   * Stored envelopes of a doc with serverSeq > `afterServerSeq`, ascending,
   * at most `limitCount` items, and stopping before the item that would
   * take the total over `limitBytes` — except that the first item is always
   * returned, however large, so a reader always makes progress.
   */
  readEnvelopes(vaultId: Uint8Array, docId: Uint8Array, afterServerSeq: number, limitCount: number, limitBytes: number): Promise<StoredItem[]>

  /** The stored envelope a device wrote with this per-device seq, if any. */
  findEnvelope(vaultId: Uint8Array, docId: Uint8Array, deviceId: Uint8Array, seq: number): Promise<{ serverSeq: number; bytes: Uint8Array } | undefined>

  /** The device's stored envelope with the highest seq for this doc, if any (the relay checks the next seq and prevHash against it). */
  deviceHead(vaultId: Uint8Array, docId: Uint8Array, deviceId: Uint8Array): Promise<{ seq: number; bytes: Uint8Array } | undefined>

  /** The highest serverSeq of the doc; 0 when it has no envelopes. */
  headSeq(vaultId: Uint8Array, docId: Uint8Array): Promise<number>

  /** Records that the device was seen at `timeMs` (keeps the latest). */
  touchDevice(vaultId: Uint8Array, deviceId: Uint8Array, timeMs: number): Promise<void>

  /** When each device of the vault was last seen: hex device id → milliseconds. */
  lastSeen(vaultId: Uint8Array): Promise<Map<string, number>>

  /** Releases the storage; no method is called afterwards. */
  close(): Promise<void>
}

/** One envelope to store; the ids come from its (already validated) clear header. */
export interface EnvelopeRecord {
  vaultId: Uint8Array
  docId: Uint8Array
  deviceId: Uint8Array
  /** The author's per-device sequence number (from 1). */
  seq: number
  /** The envelope kind (update, snapshot, checkpoint), kept for pruning. */
  kind: number
  /** The whole encoded envelope, stored and served byte for byte. */
  bytes: Uint8Array
}

/** A stored envelope and the position the relay gave it. */
export interface StoredItem {
  serverSeq: number
  envelope: Uint8Array
}
