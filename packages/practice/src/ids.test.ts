import { describe, expect, it } from 'vitest'
import { createId, isEntryId } from './ids.js'

describe('entry ids', () => {
  it('are 12 hex digits of milliseconds then 16 random hex digits', () => {
    const id = createId(Date.UTC(2024, 4, 1))
    expect(isEntryId(id)).toBe(true)
    expect(Number.parseInt(id.slice(0, 12), 16)).toBe(Date.UTC(2024, 4, 1))
  })

  it('sort by creation time and do not repeat', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => createId(1_700_000_000_000 + i))
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(Array.from({ length: 1000 }, () => createId(0))).size).toBe(1000)
  })

  it('recognizes only the canonical shape', () => {
    for (const bad of ['', 'x'.repeat(28), `${'A'.repeat(28)}`, '0'.repeat(27), 28]) expect(isEntryId(bad)).toBe(false)
  })
})
