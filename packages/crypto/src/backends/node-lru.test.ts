import { describe, expect, it } from 'vitest'
import { createLru } from './node-lru.js'

describe('createLru', () => {
  it('keeps at most `capacity` entries and evicts the least recently used', () => {
    const lru = createLru<number>(3)
    lru.set('a', 1)
    lru.set('b', 2)
    lru.set('c', 3)
    expect(lru.get('a')).toBe(1) // a is now the most recent
    lru.set('d', 4)
    expect(lru.size).toBe(3)
    expect(lru.get('b')).toBeUndefined()
    expect([lru.get('a'), lru.get('c'), lru.get('d')]).toEqual([1, 3, 4])
    lru.set('c', 30)
    expect(lru.size).toBe(3)
    expect(lru.get('c')).toBe(30)
  })
})
