/** A small least-recently-used map: Map keeps insertion order, so the first key is the oldest. */
export interface Lru<V> {
  get(key: string): V | undefined
  set(key: string, value: V): void
  readonly size: number
}

/** Creates an LRU map holding at most `capacity` entries. */
export function createLru<V>(capacity: number): Lru<V> {
  const map = new Map<string, V>()
  return {
    get(key) {
      const value = map.get(key)
      if (value !== undefined) {
        map.delete(key)
        map.set(key, value)
      }
      return value
    },
    set(key, value) {
      map.delete(key)
      map.set(key, value)
      if (map.size > capacity) map.delete(map.keys().next().value as string)
    },
    get size() {
      return map.size
    },
  }
}
