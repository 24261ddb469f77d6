import { ZERO_HASH } from '@mindsync/protocol'
import { describe, expect, it } from 'vitest'
import { ChainTracker } from './chain.js'

const h = (n: number): Uint8Array => new Uint8Array(32).fill(n)

/** Adds seqs of author 'a' whose hashes are h(seq), each naming h(seq - 1). */
function withSeqs(...seqs: number[]): ChainTracker {
  const c = new ChainTracker()
  for (const s of seqs) c.add('a', s, s === 1 ? ZERO_HASH : h(s - 1), h(s))
  return c
}

describe('ChainTracker', () => {
  it('reports holes between what arrived, in any order, and the hole-free head', () => {
    const c = withSeqs(5, 1, 2, 8)
    expect(c.gaps()).toEqual([
      { author: 'a', from: 3, to: 4 },
      { author: 'a', from: 6, to: 7 },
    ])
    expect(c.contiguousHead('a')).toEqual({ seq: 2, hash: h(2) })
    expect(c.head('a')).toEqual({ seq: 8, hash: h(8) })
    c.add('a', 3, h(2), h(3))
    c.add('a', 4, h(3), h(4))
    expect(c.gaps()).toEqual([{ author: 'a', from: 6, to: 7 }])
    expect(c.contiguousHead('a').seq).toBe(5)
  })

  it('refuses two envelopes with one seq and one that does not follow its neighbours', () => {
    const c = withSeqs(1, 2, 4)
    expect(c.check('a', 2, h(1), h(2))).toEqual({ ok: true, duplicate: true })
    expect(c.check('a', 2, h(1), h(99))).toMatchObject({ ok: false, code: 'E_EQUIVOCATION' })
    expect(c.check('a', 3, h(77), h(3))).toMatchObject({ ok: false, code: 'E_CHAIN' })
    expect(c.check('a', 3, h(2), h(66))).toMatchObject({ ok: false, code: 'E_CHAIN' }) // seq 4 names h(3)
    expect(c.check('a', 3, h(2), h(3))).toEqual({ ok: true, duplicate: false })
    expect(new ChainTracker().check('z', 1, h(5), h(1))).toMatchObject({ ok: false, code: 'E_CHAIN' })
  })

  it('a snapshot base covers everything up to its seq: no holes below it, the chain goes on from its hash', () => {
    const c = withSeqs(1, 2, 9)
    expect(c.cover('a', 6, h(6))).toBe(true)
    expect(c.gaps()).toEqual([{ author: 'a', from: 7, to: 8 }])
    expect(c.holds('a', 4)).toBe(true)
    expect(c.covered('a', 6)).toBe(true)
    expect(c.holds('a', 7)).toBe(false)
    expect(c.check('a', 3, h(2), h(3))).toEqual({ ok: true, duplicate: true })
    expect(c.check('a', 6, h(5), h(60))).toMatchObject({ ok: false, code: 'E_EQUIVOCATION' })
    expect(c.check('a', 7, h(50), h(7))).toMatchObject({ ok: false, code: 'E_CHAIN' })
    c.add('a', 7, h(6), h(7))
    c.add('a', 8, h(7), h(8))
    expect(c.gaps()).toEqual([])
    expect(c.contiguousHead('a')).toEqual({ seq: 9, hash: h(9) })
    // A lower base changes nothing; a conflicting one at a held seq is refused.
    expect(c.cover('a', 4, h(4))).toBe(true)
    expect(c.cover('a', 8, h(80))).toBe(false)
    expect(c.contiguousHead('a').seq).toBe(9)
  })

  it('a base for an author never seen starts its chain there', () => {
    const c = new ChainTracker()
    c.cover('b', 3, h(3))
    expect(c.head('b')).toEqual({ seq: 3, hash: h(3) })
    expect(c.contiguousHead('b')).toEqual({ seq: 3, hash: h(3) })
    expect(c.authorIds()).toEqual(['b'])
    expect(c.check('b', 4, h(3), h(4))).toEqual({ ok: true, duplicate: false })
  })
})
