import { describe, expect, it } from 'vitest'
import { BoundedMap } from './lru.js'

const filled = (n: number, max = n, keep?: (v: number) => boolean): BoundedMap<string, number> => {
  const m = new BoundedMap<string, number>(max, keep)
  for (let i = 0; i < n; i++) m.set(`k${i}`, i)
  return m
}

describe('BoundedMap', () => {
  it('[LRU1] forgets the oldest unread entry beyond max', () => {
    const m = filled(3)
    m.set('k3', 3)
    expect(m.size).toBe(3)
    expect(m.get('k0')).toBeUndefined()
    expect([m.get('k1'), m.get('k2'), m.get('k3')]).toEqual([1, 2, 3])
  })

  it('[LRU2] an entry read since it was set outlives older and newer unread ones', () => {
    const m = filled(3)
    expect(m.get('k0')).toBe(0)
    m.set('k3', 3)
    m.set('k4', 4)
    expect(m.get('k0')).toBe(0)
    expect(m.get('k1')).toBeUndefined()
    expect(m.get('k2')).toBeUndefined()
    expect(m.get('k4')).toBe(4)
  })

  it('[LRU3] setting a known key replaces its value and counts as a use', () => {
    const m = filled(2)
    m.set('k0', 10)
    m.set('k2', 2)
    expect(m.size).toBe(2)
    expect(m.get('k0')).toBe(10)
    expect(m.get('k1')).toBeUndefined()
  })

  it('[LRU4] protected entries are never forgotten, and the map shrinks back once they are not', () => {
    const locked = new Set([0, 1, 2])
    const m = filled(3, 2, (v) => locked.has(v))
    m.set('k3', 3)
    expect([m.get('k0'), m.get('k1'), m.get('k2')]).toEqual([0, 1, 2])
    locked.clear()
    m.set('k4', 4)
    expect(m.size).toBe(2)
  })

  it('[LRU5] stays bounded when every entry is read between sets', () => {
    const m = filled(100)
    for (let i = 100; i < 1100; i++) {
      for (let j = i - 100; j < i; j++) m.get(`k${j}`)
      m.set(`k${i}`, i)
      expect(m.size).toBe(100)
    }
  })

  it('[LRU6] delete and clear forget entries', () => {
    const m = filled(3)
    expect(m.delete('k1')).toBe(true)
    expect(m.delete('k1')).toBe(false)
    expect(m.size).toBe(2)
    m.clear()
    expect(m.size).toBe(0)
    expect(m.get('k0')).toBeUndefined()
  })
})
