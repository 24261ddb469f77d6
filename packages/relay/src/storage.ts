import type { CoveredHead } from '@mindsync/protocol'

/**
 * What the relay keeps durably. A handful of async methods over `Uint8Array`
 * values, so an engine on another machine (a SQL server, a replicated log)
 * can implement it later; the rules every implementation must follow are in
 * SPEC.md and checked by `runRelayStorageTests` from `@mindsync/relay/testing`.
 *
 * The storage never interprets ops or envelopes: the relay core verifies
 * them and hands the storage plain bytes plus the few ids it indexes by,
 * and for a snapshot the heads it covers, by which the storage prunes.
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
   * are per (vault, doc), start at 1 and are never reused (pruning leaves
   * gaps behind). When any record is not above its device's chain head
   * (it repeats a stored or pruned seq), the whole batch is refused (the
   * promise rejects) and nothing is stored.
   *
   * A record with `covers` (a snapshot) that dominates the doc's base
   * snapshot becomes the new base, and in the same write every envelope of
   * the doc stored before it that its covers hold is deleted (see
   * `baseSnapshot`).
   */
  appendEnvelopes(batch: readonly EnvelopeRecord[]): Promise<number[]>

  /**
   * The doc's base snapshot: the newest stored snapshot that dominated the
   * one before it (for every device the old base covers, it covers that
   * device up to at least the same seq). Never pruned; `undefined` until a
   * snapshot is stored.
   */
  baseSnapshot(vaultId: Uint8Array, docId: Uint8Array): Promise<BaseSnapshot | undefined>

  /** How many envelopes of the doc are stored and their total size in bytes (what pruning brings down). */
  docUsage(vaultId: Uint8Array, docId: Uint8Array): Promise<{ envelopes: number; bytes: number }>

  /**
   * Stored envelopes of a doc with serverSeq > `afterServerSeq`, ascending,
   * at most `limitCount` items, and stopping before the item that would
   * take the total over `limitBytes` — except that the first item is always
   * returned, however large, so a reader always makes progress.
   */
  readEnvelopes(vaultId: Uint8Array, docId: Uint8Array, afterServerSeq: number, limitCount: number, limitBytes: number): Promise<StoredItem[]>

  /** The stored envelope a device wrote with this per-device seq, if any (not once pruned). */
  findEnvelope(vaultId: Uint8Array, docId: Uint8Array, deviceId: Uint8Array, seq: number): Promise<{ serverSeq: number; bytes: Uint8Array } | undefined>

  /**
   * The device's chain head for this doc: seq and `hash` of the highest-seq
   * envelope ever stored, kept when pruning deletes that envelope (the relay
   * checks the next seq and prevHash against it); `undefined` before its first.
   */
  deviceHead(vaultId: Uint8Array, docId: Uint8Array, deviceId: Uint8Array): Promise<{ seq: number; hash: Uint8Array } | undefined>

  /** The highest serverSeq ever given in the doc (pruning never lowers it); 0 when it has had no envelopes. */
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
  /** The envelope's chain hash (`envelopeHash`), which the author's next envelope names: kept as the device's head, so its chain outlives pruning. */
  hash: Uint8Array
  /** Snapshots only, from the clear header: each author's last envelope the snapshot holds with every earlier one. */
  covers?: readonly CoveredHead[]
}

/** A doc's base snapshot: where it is stored and what it covers. */
export interface BaseSnapshot {
  serverSeq: number
  /** Sorted by device id. */
  covers: CoveredHead[]
}

/** A stored envelope and the position the relay gave it. */
export interface StoredItem {
  serverSeq: number
  envelope: Uint8Array
}
