import { MindsyncError, Reader } from '@mindsync/protocol'
import * as encoding from 'lib0/encoding'

/** A device's signed statement of what it has seen: the membership head and, for one doc, every author's chain head. */
export interface Checkpoint {
  ops: { index: number; hash: Uint8Array }
  heads: { author: Uint8Array; seq: number; hash: Uint8Array }[]
}

/** checkpoint := u8(1) • varUint(opIndex) • opHash(32) • varUint(n) • (deviceId(16) • varUint(seq) • hash(32))^n */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeUint8(e, 1)
  encoding.writeVarUint(e, c.ops.index)
  encoding.writeUint8Array(e, c.ops.hash)
  encoding.writeVarUint(e, c.heads.length)
  for (const h of c.heads) {
    encoding.writeUint8Array(e, h.author)
    encoding.writeVarUint(e, h.seq)
    encoding.writeUint8Array(e, h.hash)
  }
  return encoding.toUint8Array(e)
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  const r = new Reader(bytes, 'checkpoint')
  if (r.u8('version') !== 1) throw new MindsyncError('E_BAD_FRAME', 'checkpoint: unknown version', 'version')
  const ops = { index: r.varUint('opIndex'), hash: r.fixed('opHash', 32) }
  const n = r.varUint('heads count', 100_000)
  const heads: Checkpoint['heads'] = []
  for (let i = 0; i < n; i++) heads.push({ author: r.fixed(`heads[${i}].author`, 16), seq: r.varUint(`heads[${i}].seq`), hash: r.fixed(`heads[${i}].hash`, 32) })
  r.end()
  return { ops, heads }
}
