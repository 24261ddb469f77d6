import { describe, expect, it } from 'vitest'
import { expectCode } from '../test-fixtures/helpers.js'
import { pad, paddedLength, unpad } from './padding.js'

describe('padding', () => {
  it('puts bodies of 0..3000 bytes into a small set of lengths', () => {
    const lengths = new Set<number>()
    for (let n = 0; n <= 3000; n++) {
      const padded = pad(new Uint8Array(n).fill(7))
      expect(padded.length).toBe(paddedLength(n + 1))
      expect(padded.length).toBeGreaterThan(n)
      lengths.add(padded.length)
    }
    // 5 powers of two (64..1024), then Padmé steps of 64 up to 2 KiB and of 128 above.
    expect([...lengths].sort((a, b) => a - b)).toEqual([
      64, 128, 256, 512, 1024,
      ...Array.from({ length: 16 }, (_, i) => 1088 + 64 * i),
      ...Array.from({ length: 8 }, (_, i) => 2176 + 128 * i),
    ])
  })

  it('uses the next power of two, at least 64, up to 1 KiB', () => {
    expect(paddedLength(0)).toBe(64)
    expect(paddedLength(1)).toBe(64)
    expect(paddedLength(64)).toBe(64)
    expect(paddedLength(65)).toBe(128)
    expect(paddedLength(513)).toBe(1024)
    expect(paddedLength(1024)).toBe(1024)
  })

  it('uses Padmé above 1 KiB, with under 12% overhead and never shrinking', () => {
    const bad: string[] = []
    let previous = paddedLength(1024)
    let worst = 0
    for (let l = 1025; l <= 1 << 24; l += l < 70_000 ? 1 : 997) {
      const p = paddedLength(l)
      if (p < l || p < previous) bad.push(`${l} -> ${p}`)
      worst = Math.max(worst, (p - l) / l)
      previous = p
    }
    expect(bad).toEqual([])
    expect(worst).toBeLessThan(0.12)
    expect(worst).toBeGreaterThan(0.05)
    // Padmé keeps only the top floor(log2 E) + 1 bits of the length (E = floor(log2 L)).
    expect(paddedLength(1025)).toBe(1088)
    expect(paddedLength(100_000)).toBe(100_352)
    expect(paddedLength(1_000_000)).toBe(1_015_808)
  })

  it('round-trips every length, including bodies that end in 0x80 or zeros', () => {
    for (const body of [new Uint8Array(0), Uint8Array.of(0x80), Uint8Array.of(1, 0, 0), new Uint8Array(63), new Uint8Array(1500).fill(0x80)]) {
      expect(unpad(pad(body))).toEqual(body)
    }
  })

  it('refuses a body without the 0x80 marker', () => {
    expectCode(() => unpad(new Uint8Array(64)), 'E_BAD_FRAME', 'body')
    expectCode(() => unpad(new Uint8Array(0)), 'E_BAD_FRAME', 'body')
    expectCode(() => unpad(Uint8Array.of(0x80, 1)), 'E_BAD_FRAME', 'body')
  })
})
