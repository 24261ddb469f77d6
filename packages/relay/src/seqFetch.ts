import { sameBytes } from '@mindsync/protocol'
import type { StoredEnvelope } from '@mindsync/protocol'
import type { RelayStorage } from './storage.js'

/**
 * One author's stored envelopes of a doc with from ≤ seq ≤ to, for a
 * device repairing a hole in that author's chain. Seqs that pruning removed
 * are answered with the base snapshot that covers them (once, in serverSeq
 * order with the rest), so the device learns they are held through it
 * instead of reporting them withheld.
 */
export async function findBySeq(storage: RelayStorage, vaultId: Uint8Array, docId: Uint8Array, deviceId: Uint8Array, from: number, to: number): Promise<StoredEnvelope[]> {
  const out: StoredEnvelope[] = []
  let firstMissing: number | undefined
  for (let seq = from; seq <= to; seq++) {
    const found = await storage.findEnvelope(vaultId, docId, deviceId, seq)
    if (found) out.push({ serverSeq: found.serverSeq, envelope: found.bytes })
    else firstMissing ??= seq
  }
  if (firstMissing === undefined) return out
  const base = await storage.baseSnapshot(vaultId, docId)
  const covered = base?.covers.find((c) => sameBytes(c.deviceId, deviceId))
  if (!base || !covered || covered.seq < firstMissing || out.some((it) => it.serverSeq === base.serverSeq)) return out
  // The base is never pruned; the first item after serverSeq - 1 is the base itself.
  const [item] = await storage.readEnvelopes(vaultId, docId, base.serverSeq - 1, 1, 0)
  if (item?.serverSeq !== base.serverSeq) return out
  return [...out, item].sort((a, b) => a.serverSeq - b.serverSeq)
}
