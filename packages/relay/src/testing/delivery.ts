import type { RelayMessage } from '@mindsync/protocol'

const sameDoc = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])

/**
 * The highest serverSeq a connection knows it has for a doc: from envelopes
 * sent with their serverSeq, `stored` markers (after early fan-out) and
 * `caughtUp`. What a device's cursor would be after these messages.
 */
export function deliveredHead(received: readonly RelayMessage[], docId: Uint8Array): number {
  let head = 0
  for (const m of received) {
    if (m.type === 'envelopes' && sameDoc(m.docId, docId)) for (const it of m.items) head = Math.max(head, it.serverSeq)
    if ((m.type === 'stored' || m.type === 'caughtUp') && sameDoc(m.docId, docId)) head = Math.max(head, m.head)
  }
  return head
}

/**
 * The serverSeq of every envelope a connection received for a doc, in
 * arrival order, those sent early (serverSeq 0) resolved by their bytes
 * against `stored` (serverSeq by hex envelope bytes); an early envelope the
 * relay never stored is -1. Throws when a `stored` marker arrived before an
 * envelope it covers (one after the subscription's `cursor`).
 */
export function receivedSeqs(received: readonly RelayMessage[], docId: Uint8Array, stored: ReadonlyMap<string, number>, cursor = 0): number[] {
  const out: number[] = []
  for (const m of received) {
    if (m.type === 'envelopes' && sameDoc(m.docId, docId)) {
      for (const it of m.items) out.push(it.serverSeq > 0 ? it.serverSeq : (stored.get(Buffer.from(it.envelope).toString('hex')) ?? -1))
    }
    if (m.type === 'stored' && sameDoc(m.docId, docId)) {
      const seen = new Set(out)
      for (let seq = cursor + 1; seq <= m.head; seq++) if (!seen.has(seq)) throw new Error(`stored(${m.head}) arrived before envelope ${seq}`)
    }
  }
  return out
}
