import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import * as native from './deflate/node.js'
import * as portable from './deflate/portable.js'
import { decodeSnapshotBody, encodeSnapshotBody } from './snapshotBody.js'

function journalState(entries: number): Uint8Array {
  const doc = new Y.Doc()
  const m = doc.getMap('sessions')
  for (let i = 0; i < entries; i++) m.set(`s${i}`, { minutes: 10, technique: 'breath', note: `entry ${i}` })
  return Y.encodeStateAsUpdate(doc)
}

describe('snapshot body', () => {
  it('compresses a journal state and gives back the same bytes', () => {
    const state = journalState(2000)
    const body = encodeSnapshotBody(state)
    expect(body[0]).toBe(1)
    expect(body.length).toBeLessThan(state.length / 3)
    expect(decodeSnapshotBody(body)).toEqual(state)
  })

  it("Node's zlib and the portable inflater read each other's output (a snapshot from a phone opens on a laptop)", () => {
    const state = journalState(500)
    expect(native.inflate(portable.deflate(state))).toEqual(state)
    expect(portable.inflate(native.deflate(state))).toEqual(state)
  })

  it('keeps a state that does not compress as it is', () => {
    const random = crypto.getRandomValues(new Uint8Array(300))
    const body = encodeSnapshotBody(random)
    expect(body[0]).toBe(0)
    expect(decodeSnapshotBody(body)).toEqual(random)
  })

  it('refuses an unknown encoding and a body that does not inflate, naming the problem', () => {
    expect(() => decodeSnapshotBody(Uint8Array.of(7, 1, 2))).toThrow(/encoding 7 is unknown/)
    expect(() => decodeSnapshotBody(Uint8Array.of(1, 0xff, 0xff, 0xff))).toThrow(/does not inflate/)
  })
})
