interface Slot<V> {
  value: V
  /** Read or set again since the eviction sweep last passed it. */
  used: boolean
}

/**
 * A Map that forgets its least recently used entries beyond `max`, except
 * those `keep` protects. Recency is approximated the CLOCK way (second
 * chance): a read marks its entry, and eviction walks from the oldest entry,
 * moving marked ones to the end unmarked and deleting the first unmarked one.
 *
 * A read does not move its entry (delete and set it again), because that
 * made a long-lived Map rebuild its hash table every few reads, and V8 links
 * each replaced table to its successor: the first replaced table sits in the
 * old generation, so every later one, and every value it still held,
 * survived the young-generation collections and filled the old generation
 * with garbage (bench README, "Old-generation garbage").
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, Slot<V>>()
  constructor(
    private readonly max: number,
    private readonly keep: (value: V) => boolean = () => false,
  ) {}

  get size(): number {
    return this.map.size
  }

  get(key: K): V | undefined {
    const slot = this.map.get(key)
    if (slot === undefined) return undefined
    slot.used = true
    return slot.value
  }

  set(key: K, value: V): void {
    const slot = this.map.get(key)
    if (slot !== undefined) {
      slot.value = value
      slot.used = true
      return
    }
    this.map.set(key, { value, used: false })
    if (this.map.size > this.max) this.evict()
  }

  /**
   * A bounded sweep from the oldest entry. The first steps give marked
   * entries their second chance; after them an unprotected entry goes
   * whether marked or not, so only protected entries can keep the map above
   * max (briefly, as they are skipped).
   */
  private evict(): void {
    let budget = 32
    for (const [key, slot] of this.map) {
      if (this.map.size <= this.max || budget-- === 0) return
      if (this.keep(slot.value)) continue
      this.map.delete(key)
      if (slot.used && budget >= 16) {
        slot.used = false
        this.map.set(key, slot)
      }
    }
  }

  delete(key: K): boolean {
    return this.map.delete(key)
  }

  clear(): void {
    this.map.clear()
  }
}
