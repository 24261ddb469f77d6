import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import { encodeOnto } from './scratch.js'

const lib0 = (write: (e: encoding.Encoder) => void): number[] => [...encoding.encode(write)]
const bytesOf = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i & 0xff)

describe('encodeOnto', () => {
  it('[SC1] writes into the given buffer when it fits, byte for byte what lib0 writes', () => {
    const e = encoding.createEncoder()
    const buf = new Uint8Array(64)
    const write = (x: encoding.Encoder): void => {
      encoding.writeVarUint(x, 300)
      encoding.writeUint8Array(x, bytesOf(10))
    }
    const out = encodeOnto(e, buf, write)
    expect([...out]).toEqual(lib0(write))
    expect(out.buffer).toBe(buf.buffer)
    expect(out).not.toBeInstanceOf(Buffer)
  })

  it('[SC2] grows past a buffer that is too small and still returns exactly what was written', () => {
    const e = encoding.createEncoder()
    const write = (x: encoding.Encoder): void => encoding.writeVarUint8Array(x, bytesOf(1000))
    expect([...encodeOnto(e, new Uint8Array(16), write)]).toEqual(lib0(write))
  })

  it('[SC3] a write that throws leaves the reused encoder clean for the next call, and the encoder keeps no buffer', () => {
    const e = encoding.createEncoder()
    expect(() =>
      encodeOnto(e, new Uint8Array(8), (x) => {
        encoding.writeUint8Array(x, bytesOf(20))
        throw new Error('bad input')
      }),
    ).toThrow('bad input')
    const buf = new Uint8Array(8)
    expect([...encodeOnto(e, buf, (x) => encoding.writeUint8(x, 7))]).toEqual([7])
    expect(e.cbuf.buffer).not.toBe(buf.buffer)
    expect(e.bufs).toEqual([])
  })
})
