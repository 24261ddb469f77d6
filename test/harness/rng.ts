/**
 * A small seeded PRNG (xoshiro128**, its state filled by a splitmix-style
 * mixer of the seed and any salts), so an adversary's every choice follows from the seed a
 * property printed. Not for cryptography.
 */
export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number, ...salt: number[]) {
    let s = (seed | 0) ^ 0x9e3779b9
    for (const x of salt) s = Math.imul(s ^ (x | 0), 0x85ebca6b) ^ (s >>> 13)
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = next()
    this.b = next()
    this.c = next()
    this.d = next() | 1
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0
    const t = this.b << 9
    this.c ^= this.a
    this.d ^= this.b
    this.b ^= this.c
    this.a ^= this.d
    this.c ^= t
    this.d = rotl(this.d, 11)
    return result
  }

  /** A float in [0, 1). */
  next(): number {
    return this.u32() / 0x1_0000_0000
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : Math.floor(this.next() * n)
  }

  /** True with probability p (never draws when p is 0, so turning a fault off does not shift later choices of other faults). */
  chance(p: number): boolean {
    if (p <= 0) return false
    return this.next() < p
  }

  pick<T>(list: readonly T[]): T {
    if (list.length === 0) throw new RangeError('pick from an empty list')
    return list[this.int(list.length)] as T
  }

  shuffle<T>(list: T[]): T[] {
    for (let i = list.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      ;[list[i], list[j]] = [list[j] as T, list[i] as T]
    }
    return list
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}
