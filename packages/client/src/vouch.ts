import { sameBytes, verifyEnvelope } from '@mindsync/protocol'
import type { Envelope } from '@mindsync/protocol'

/** A received envelope, decoded, with its chain hash (envelopeHash: a hash of the signed bytes). */
export interface Decoded {
  env: Envelope
  hash: Uint8Array
  /** Hex id of the author, as the header names it. */
  author: string
}

/**
 * Which envelopes of a received batch are their authors' own, verifying as
 * few signatures as it can: an author signs its envelope's prevHash, the
 * hash of everything it signed in its previous envelope, so once envelope n
 * verifies, envelope n − 1 of the same author is authentic when its hash is
 * n's prevHash, and so on down the run. The batch is walked backwards and
 * only the last envelope of each run of consecutive seqs is verified.
 * Under load a device receives larger batches, so it verifies one signature
 * for many envelopes exactly when it has the least time for each.
 *
 * A valid receiver tag authenticates an envelope without its signature too.
 * `signPub` gives an author's signing key (undefined: not a member, not
 * authentic). Entries that did not decode (undefined) are skipped.
 */
export function authenticate(
  batch: readonly (Decoded | undefined)[],
  signPub: (deviceId: Uint8Array) => Uint8Array | undefined,
  /** True when the envelope carries a valid receiver tag for this device (protocol tags.ts): no signature to verify. */
  tagged: (d: Decoded) => boolean = () => false,
): boolean[] {
  const authentic = new Array<boolean>(batch.length).fill(false)
  // Per author: the prevHash and seq of the earliest authentic envelope seen so far (walking backwards).
  const vouchers = new Map<string, { seq: number; prevHash: Uint8Array }>()
  for (let i = batch.length - 1; i >= 0; i--) {
    const d = batch[i]
    if (!d) continue
    const h = d.env.header
    const author = d.author
    const voucher = vouchers.get(author)
    if ((voucher && voucher.seq === h.seq + 1 && sameBytes(voucher.prevHash, d.hash)) || tagged(d)) {
      authentic[i] = true
    } else {
      const key = signPub(h.deviceId)
      authentic[i] = key !== undefined && verifyEnvelope(d.env, key)
    }
    // A forged envelope vouches for nothing: the run before it is verified on its own.
    if (authentic[i]) vouchers.set(author, { seq: h.seq, prevHash: h.prevHash })
  }
  return authentic
}
