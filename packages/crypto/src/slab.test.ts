import { describe, expect, it } from 'vitest'
import { allocBytes, createSlab } from './slab.js'

describe('allocBytes', () => {
  it('hands out zeroed views that never overlap, across slabs', () => {
    const views: Uint8Array[] = []
    // More than one 16 KiB slab's worth, in sizes that do not divide it.
    for (let i = 0; i < 400; i++) {
      const v = allocBytes(1 + ((i * 37) % 300))
      expect(v.every((b) => b === 0)).toBe(true)
      v.fill(0xff)
      views.push(v)
    }
    const spans = new Map<ArrayBufferLike, [number, number][]>()
    for (const v of views) {
      const list = spans.get(v.buffer) ?? []
      for (const [from, to] of list) expect(v.byteOffset >= to || v.byteOffset + v.length <= from).toBe(true)
      list.push([v.byteOffset, v.byteOffset + v.length])
      spans.set(v.buffer, list)
    }
    expect(spans.size).toBeGreaterThan(1)
    expect(views.every((v) => v.every((b) => b === 0xff))).toBe(true)
  })

  it('gives large requests arrays of their own', () => {
    const big = allocBytes(5000)
    expect(big.length).toBe(5000)
    expect(big.byteOffset).toBe(0)
    expect(big.buffer.byteLength).toBe(5000)
    expect(allocBytes(0).length).toBe(0)
  })
})

describe('createSlab', () => {
  it('cuts from slabs of its own, never from another allocator’s', () => {
    const other = createSlab()
    const mine = Array.from({ length: 50 }, (_, i) => other(100 + i))
    const shared = Array.from({ length: 50 }, (_, i) => allocBytes(100 + i))
    const buffers = new Set(shared.map((v) => v.buffer))
    for (const v of mine) expect(buffers.has(v.buffer)).toBe(false)
  })
})
