import { expect, it } from 'vitest'
import { expectBytes, hexOf, testBytes } from './bytes.js'
import { type LocalStoreTestSetup, withStore } from './harness.js'

type Setup = () => Promise<LocalStoreTestSetup>

/** ST1 (meta) and ST2 (membership ops). */
export function metaAndOpsRules(setup: Setup): void {
  it('[ST1] meta values round-trip and are copies', () =>
    withStore(setup, async ({ store }) => {
      expect(await store.getMeta('identity')).toBeUndefined()
      const value = testBytes(1, 96)
      await store.setMeta('identity', value)
      expectBytes(await store.getMeta('identity'), testBytes(1, 96), 'stored value')

      value.fill(0)
      expectBytes(await store.getMeta('identity'), testBytes(1, 96), 'after mutating the value passed in')

      const got = await store.getMeta('identity')
      got?.fill(0)
      expectBytes(await store.getMeta('identity'), testBytes(1, 96), 'after mutating a value read back')
    }))

  it('[ST1] setMeta replaces, deleteMeta removes, keys are independent', () =>
    withStore(setup, async ({ store }) => {
      await store.setMeta('a', testBytes(2, 8))
      await store.setMeta('a/b', testBytes(3, 8))
      await store.setMeta('clé ✓', testBytes(4, 8))
      await store.setMeta('a', testBytes(5, 300))
      expectBytes(await store.getMeta('a'), testBytes(5, 300), 'replaced value')
      expectBytes(await store.getMeta('a/b'), testBytes(3, 8), 'other key')
      expectBytes(await store.getMeta('clé ✓'), testBytes(4, 8), 'non-ASCII key')

      await store.deleteMeta('a')
      expect(await store.getMeta('a')).toBeUndefined()
      expectBytes(await store.getMeta('a/b'), testBytes(3, 8), 'other key after delete')
      await store.deleteMeta('a')
      await store.deleteMeta('never set')
      await store.setMeta('a', testBytes(6, 4))
      expectBytes(await store.getMeta('a'), testBytes(6, 4), 'set again after delete')
    }))

  it('[ST1] meta stores exactly the bytes of a view, and keeps empty values', () =>
    withStore(setup, async ({ store }) => {
      const backing = testBytes(7, 64)
      await store.setMeta('view', backing.subarray(8, 24))
      expectBytes(await store.getMeta('view'), testBytes(7, 64).slice(8, 24), 'a subarray view')
      await store.setMeta('empty', new Uint8Array(0))
      expectBytes(await store.getMeta('empty'), new Uint8Array(0), 'an empty value (not undefined)')
    }))

  it('[ST2] putOps appends in index order', () =>
    withStore(setup, async ({ store }) => {
      expect(await store.listOps()).toEqual([])
      const [a, b, c] = [testBytes(10, 40), testBytes(11, 41), testBytes(12, 42)]
      await store.putOps(0, [a, b])
      await store.putOps(2, [c])
      await store.putOps(3, [])
      expect((await store.listOps()).map(hexOf)).toEqual([a, b, c].map(hexOf))
    }))

  it('[ST2] re-putting stored indexes leaves them untouched', () =>
    withStore(setup, async ({ store }) => {
      const [a, b, c, d] = [testBytes(20, 30), testBytes(21, 30), testBytes(22, 30), testBytes(23, 30)]
      await store.putOps(0, [a, b])
      await store.putOps(0, [testBytes(99, 30), testBytes(98, 30), c])
      await store.putOps(1, [testBytes(97, 5)])
      await store.putOps(2, [testBytes(96, 5), d])
      expect((await store.listOps()).map(hexOf)).toEqual([a, b, c, d].map(hexOf))
    }))

  it('[ST2] a gap (from > length) throws and stores nothing', () =>
    withStore(setup, async ({ store }) => {
      const [a, b] = [testBytes(30, 16), testBytes(31, 16)]
      await store.putOps(0, [a])
      await expect(store.putOps(2, [b, testBytes(32, 16)])).rejects.toThrow()
      await expect(store.putOps(5, [])).rejects.toThrow()
      expect((await store.listOps()).map(hexOf)).toEqual([a].map(hexOf))
      await store.putOps(1, [b])
      expect((await store.listOps()).map(hexOf)).toEqual([a, b].map(hexOf))
    }))

  it('[ST2] ops are copies', () =>
    withStore(setup, async ({ store }) => {
      const backing = testBytes(40, 48)
      const op = testBytes(41, 16)
      await store.putOps(0, [op, backing.subarray(16, 32)])
      op.fill(0)
      backing.fill(0)
      const listed = await store.listOps()
      for (const o of listed) o.fill(0xff)
      expect((await store.listOps()).map(hexOf)).toEqual([testBytes(41, 16), testBytes(40, 48).slice(16, 32)].map(hexOf))
    }))
}
