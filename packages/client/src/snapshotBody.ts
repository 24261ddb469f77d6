import { MindsyncError } from '@mindsync/protocol'
import { deflate, inflate } from '#deflate'

/**
 * A snapshot's plaintext: u8(encoding) • data, where encoding 0 is the Yjs
 * state as is and 1 is the state compressed with DEFLATE (RFC 1951). A
 * journal's state repeats its field names in every entry and compresses
 * several times over, which shortens a new device's first download by as much.
 */
const RAW = 0
const DEFLATE = 1

export function encodeSnapshotBody(state: Uint8Array): Uint8Array {
  const packed = deflate(state)
  const [encoding, data] = packed.length < state.length ? [DEFLATE, packed] : [RAW, state]
  const body = new Uint8Array(1 + data.length)
  body[0] = encoding
  body.set(data, 1)
  return body
}

export function decodeSnapshotBody(body: Uint8Array): Uint8Array {
  const data = body.subarray(1)
  if (body[0] === RAW) return data
  if (body[0] === DEFLATE) {
    try {
      return inflate(data)
    } catch (e) {
      throw new MindsyncError('E_BAD_FRAME', `snapshot: compressed state does not inflate (${(e as Error).message})`, 'body')
    }
  }
  throw new MindsyncError('E_BAD_FRAME', `snapshot: encoding ${body[0]} is unknown`, 'body')
}
