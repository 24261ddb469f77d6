/** A Map that forgets its least recently used entries beyond `max`, except those `keep` protects. */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>()
  constructor(
    private readonly max: number,
    private readonly keep: (value: V) => boolean = () => false,
  ) {}

  get size(): number {
    return this.map.size
  }

  get(key: K): V | undefined {
    const v = this.map.get(key)
    if (v !== undefined) {
      this.map.delete(key)
      this.map.set(key, v)
    }
    return v
  }

  set(key: K, value: V): void {
    this.map.delete(key)
    this.map.set(key, value)
    if (this.map.size <= this.max) return
    // Oldest first; protected entries are skipped, so the map may briefly exceed max.
    let budget = 16
    for (const [k, v] of this.map) {
      if (this.map.size <= this.max || budget-- === 0) break
      if (!this.keep(v)) this.map.delete(k)
    }
  }

  delete(key: K): boolean {
    return this.map.delete(key)
  }

  clear(): void {
    this.map.clear()
  }
}
