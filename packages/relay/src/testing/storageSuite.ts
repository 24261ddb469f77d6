import { randomBytes } from '@mindsync/crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { EnvelopeRecord, RelayStorage } from '../storage.js'

/** What a conformance run needs: a fresh, empty storage, and how to dispose of it. */
export interface RelayStorageSetup {
  storage: RelayStorage
  teardown?: () => Promise<void>
  /** Durable storages only: closes `storage` and opens the same data again (the rules marked "durable" run only with it). */
  reopen?: () => Promise<RelayStorage>
}

const id = (): Uint8Array => randomBytes(16)
const bytes = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill)
const plain = (b: Uint8Array | undefined): number[] | undefined => (b ? [...b] : undefined)

/**
 * The conformance suite every RelayStorage must pass; the rule ids match
 * packages/relay/SPEC.md.
 * @example
 * runRelayStorageTests('sqlite', async () => ({ storage: createSqliteRelayStorage(':memory:') }))
 */
export function runRelayStorageTests(name: string, setup: () => Promise<RelayStorageSetup>): void {
  describe(`RelayStorage conformance: ${name}`, () => {
    let s: RelayStorage
    let teardown: (() => Promise<void>) | undefined
    let reopen: (() => Promise<RelayStorage>) | undefined
    beforeEach(async () => {
      const made = await setup()
      s = made.storage
      teardown = made.teardown
      reopen = made.reopen
    })
    afterEach(async () => {
      if (teardown) await teardown()
      else await s.close()
    })

    // A stand-in chain hash, different per device and seq.
    const hashOf = (deviceId: Uint8Array, seq: number): Uint8Array => {
      const h = bytes(32, seq % 256)
      h.set(deviceId.subarray(0, 16))
      return h
    }
    const rec = (vaultId: Uint8Array, docId: Uint8Array, deviceId: Uint8Array, seq: number, size = 10): EnvelopeRecord => ({
      vaultId,
      docId,
      deviceId,
      seq,
      kind: 1,
      bytes: bytes(size, seq % 256),
      hash: hashOf(deviceId, seq),
    })
    /** A snapshot record covering each [device, seq]. */
    const snap = (vaultId: Uint8Array, docId: Uint8Array, deviceId: Uint8Array, seq: number, covers: [Uint8Array, number][], size = 50): EnvelopeRecord => ({
      ...rec(vaultId, docId, deviceId, seq, size),
      kind: 2,
      covers: covers.map(([device, upTo]) => ({ deviceId: device, seq: upTo, hash: hashOf(device, upTo) })),
    })
    const stored = async (storage: RelayStorage, v: Uint8Array, d: Uint8Array): Promise<number[]> =>
      (await storage.readEnvelopes(v, d, 0, 10_000, 1 << 30)).map((i) => i.serverSeq)

    it('[RS1] relayId is 16 bytes and stable', async () => {
      const a = await s.relayId()
      expect(a.length).toBe(16)
      expect(plain(await s.relayId())).toEqual(plain(a))
    })

    it('[RS2] loadOps of an unknown vault is undefined', async () => {
      expect(await s.loadOps(id())).toBeUndefined()
    })

    it('[RS3] appendOp is a compare-and-set on the op count', async () => {
      const v = id()
      expect(await s.appendOp(v, 1, bytes(3))).toBe(false)
      expect(await s.loadOps(v)).toBeUndefined()
      expect(await s.appendOp(v, 0, bytes(3, 7))).toBe(true)
      expect(await s.appendOp(v, 0, bytes(3, 8))).toBe(false)
      expect(await s.appendOp(v, 2, bytes(3, 8))).toBe(false)
      expect(await s.appendOp(v, 1, bytes(4, 9))).toBe(true)
      expect((await s.loadOps(v))?.map(plain)).toEqual([[7, 7, 7], [9, 9, 9, 9]])
    })

    it('[RS4] of concurrent appendOps at one index exactly one wins', async () => {
      const v = id()
      await s.appendOp(v, 0, bytes(1))
      const results = await Promise.all([1, 2, 3, 4].map((n) => s.appendOp(v, 1, bytes(2, n))))
      expect(results.filter(Boolean)).toHaveLength(1)
      expect(await s.loadOps(v)).toHaveLength(2)
    })

    it('[RS5] memberVaults lists the vaults an op admitted a device to, oldest first, once each', async () => {
      const device = id()
      const [v1, v2] = [id(), id()]
      expect(await s.memberVaults(device)).toEqual([])
      await s.appendOp(v1, 0, bytes(1), device)
      await s.appendOp(v1, 1, bytes(1))
      await s.appendOp(v2, 0, bytes(1), id())
      await s.appendOp(v2, 1, bytes(1), device)
      await s.appendOp(v2, 2, bytes(1), device)
      expect((await s.memberVaults(device)).map(plain)).toEqual([plain(v1), plain(v2)])
      // A refused compare-and-set admits nobody.
      const other = id()
      expect(await s.appendOp(v1, 0, bytes(1), other)).toBe(false)
      expect(await s.memberVaults(other)).toEqual([])
    })

    it('[RS6] server seqs are per doc, from 1, contiguous, in batch order', async () => {
      const [v, d1, d2, dev] = [id(), id(), id(), id()]
      expect(await s.appendEnvelopes([rec(v, d1, dev, 1), rec(v, d2, dev, 1), rec(v, d1, dev, 2)])).toEqual([1, 1, 2])
      expect(await s.appendEnvelopes([rec(v, d1, dev, 3)])).toEqual([3])
      expect(await s.appendEnvelopes([rec(id(), d1, dev, 1)])).toEqual([1])
      expect(await s.headSeq(v, d1)).toBe(3)
      expect(await s.headSeq(v, d2)).toBe(1)
    })

    it('[RS7] a batch repeating a stored (device, seq), or going below a device head, is refused whole', async () => {
      const [v, d, a, b] = [id(), id(), id(), id()]
      await s.appendEnvelopes([rec(v, d, a, 1), rec(v, d, a, 2)])
      await expect(s.appendEnvelopes([rec(v, d, b, 1), rec(v, d, a, 1)])).rejects.toThrow()
      await expect(s.appendEnvelopes([rec(v, d, b, 1), rec(v, d, b, 1)])).rejects.toThrow()
      await expect(s.appendEnvelopes([rec(v, d, b, 2), rec(v, d, b, 1)])).rejects.toThrow()
      expect(await s.headSeq(v, d)).toBe(2)
      expect(await s.findEnvelope(v, d, b, 1)).toBeUndefined()
      expect(await s.deviceHead(v, d, b)).toBeUndefined()
      expect(await s.appendEnvelopes([rec(v, d, b, 1)])).toEqual([3])
    })

    it('[RS8] readEnvelopes pages after a cursor, by count and bytes, always making progress', async () => {
      const [v, d, dev] = [id(), id(), id()]
      await s.appendEnvelopes([1, 2, 3, 4, 5].map((n) => rec(v, d, dev, n, 100)))
      const all = await s.readEnvelopes(v, d, 0, 100, 1 << 20)
      expect(all.map((i) => i.serverSeq)).toEqual([1, 2, 3, 4, 5])
      expect(plain(all[2]?.envelope)).toEqual(plain(bytes(100, 3)))
      expect((await s.readEnvelopes(v, d, 2, 2, 1 << 20)).map((i) => i.serverSeq)).toEqual([3, 4])
      expect((await s.readEnvelopes(v, d, 0, 100, 250)).map((i) => i.serverSeq)).toEqual([1, 2])
      expect((await s.readEnvelopes(v, d, 3, 100, 10)).map((i) => i.serverSeq)).toEqual([4])
      expect(await s.readEnvelopes(v, d, 5, 100, 1 << 20)).toEqual([])
      expect(await s.readEnvelopes(v, id(), 0, 100, 1 << 20)).toEqual([])
    })

    it('[RS9] findEnvelope and deviceHead look up by device and seq', async () => {
      const [v, d, a, b] = [id(), id(), id(), id()]
      expect(await s.deviceHead(v, d, a)).toBeUndefined()
      await s.appendEnvelopes([rec(v, d, a, 1), rec(v, d, b, 1), rec(v, d, a, 2), rec(v, id(), a, 9)])
      const found = await s.findEnvelope(v, d, a, 2)
      expect(found?.serverSeq).toBe(3)
      expect(plain(found?.bytes)).toEqual(plain(bytes(10, 2)))
      expect(await s.findEnvelope(v, d, a, 3)).toBeUndefined()
      const head = await s.deviceHead(v, d, a)
      expect(head?.seq).toBe(2)
      expect(plain(head?.hash)).toEqual(plain(hashOf(a, 2)))
      expect((await s.deviceHead(v, d, b))?.seq).toBe(1)
    })

    it('[RS10] headSeq is 0 for a doc without envelopes', async () => {
      expect(await s.headSeq(id(), id())).toBe(0)
    })

    it('[RS11] touchDevice keeps the latest time per vault and device', async () => {
      const [v, a, b] = [id(), id(), id()]
      await s.touchDevice(v, a, 1000)
      await s.touchDevice(v, a, 3000)
      await s.touchDevice(v, a, 2000)
      await s.touchDevice(v, b, 500)
      await s.touchDevice(id(), b, 9000)
      const seen = await s.lastSeen(v)
      expect(seen.size).toBe(2)
      expect(seen.get(Buffer.from(a).toString('hex'))).toBe(3000)
      expect(seen.get(Buffer.from(b).toString('hex'))).toBe(500)
      expect((await s.lastSeen(id())).size).toBe(0)
    })

    it('[RS12] stored bytes are independent of the caller’s buffers', async () => {
      const [v, d, dev] = [id(), id(), id()]
      const r = rec(v, d, dev, 1)
      const op = bytes(4, 5)
      await s.appendEnvelopes([r])
      await s.appendOp(v, 0, op)
      r.bytes.fill(0)
      op.fill(0)
      expect(plain((await s.readEnvelopes(v, d, 0, 10, 1000))[0]?.envelope)).toEqual(plain(bytes(10, 1)))
      expect(plain((await s.loadOps(v))?.[0])).toEqual([5, 5, 5, 5])
    })

    it('[RS13] an empty batch stores nothing', async () => {
      expect(await s.appendEnvelopes([])).toEqual([])
    })

    it('[RS14] concurrent batches never share a server seq', async () => {
      const [v, d] = [id(), id()]
      const devices = [id(), id(), id(), id()]
      const results = await Promise.all(devices.map((dev) => s.appendEnvelopes([rec(v, d, dev, 1), rec(v, d, dev, 2)])))
      expect(results.flat().sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
      for (const r of results) expect((r[1] as number) > (r[0] as number)).toBe(true)
    })

    it('[RS15] a first snapshot becomes the base and prunes exactly what it covers, stored before it', async () => {
      const [v, d, a, b, c] = [id(), id(), id(), id(), id()]
      expect(await s.baseSnapshot(v, d)).toBeUndefined()
      await s.appendEnvelopes([rec(v, d, a, 1), rec(v, d, a, 2), rec(v, d, b, 1), rec(v, d, a, 3), rec(v, d, b, 2), rec(v, d, c, 1)])
      // a's snapshot holds a up to 3 and b up to 1; b's 2 and c's 1 are not covered.
      expect(await s.appendEnvelopes([snap(v, d, a, 4, [[b, 1], [a, 3]])])).toEqual([7])
      const base = await s.baseSnapshot(v, d)
      expect(base?.serverSeq).toBe(7)
      const sorted = [a, b].sort((x, y) => Buffer.compare(x, y))
      expect(base?.covers.map((h) => [plain(h.deviceId), h.seq, plain(h.hash)])).toEqual(
        sorted.map((dev) => [plain(dev), dev === a ? 3 : 1, plain(hashOf(dev, dev === a ? 3 : 1))]),
      )
      expect(await stored(s, v, d)).toEqual([5, 6, 7])
      for (const [dev, seq] of [[a, 1], [a, 2], [a, 3], [b, 1]] as const) expect(await s.findEnvelope(v, d, dev, seq)).toBeUndefined()
      expect((await s.findEnvelope(v, d, b, 2))?.serverSeq).toBe(5)
      expect((await s.findEnvelope(v, d, a, 4))?.serverSeq).toBe(7)
      expect((await s.readEnvelopes(v, d, 0, 1, 1 << 20)).map((i) => i.serverSeq)).toEqual([5])
      expect((await s.readEnvelopes(v, d, 1, 10, 1 << 20)).map((i) => i.serverSeq)).toEqual([5, 6, 7])
    })

    it('[RS15] in one batch a snapshot prunes the covered records before it, never those after it', async () => {
      const [v, d, a, b] = [id(), id(), id(), id()]
      expect(await s.appendEnvelopes([rec(v, d, a, 1), rec(v, d, b, 1), snap(v, d, b, 2, [[a, 2], [b, 1]]), rec(v, d, a, 2), rec(v, d, a, 3)])).toEqual([1, 2, 3, 4, 5])
      // a's 2 is covered but came after the snapshot: it stays.
      expect(await stored(s, v, d)).toEqual([3, 4, 5])
      expect((await s.baseSnapshot(v, d))?.serverSeq).toBe(3)
    })

    it('[RS15] a refused batch holding a dominating snapshot prunes nothing', async () => {
      const [v, d, a, b] = [id(), id(), id(), id()]
      await s.appendEnvelopes([rec(v, d, a, 1), rec(v, d, b, 1)])
      await expect(s.appendEnvelopes([snap(v, d, a, 2, [[a, 1], [b, 1]]), rec(v, d, b, 1)])).rejects.toThrow()
      expect(await stored(s, v, d)).toEqual([1, 2])
      expect(await s.baseSnapshot(v, d)).toBeUndefined()
      expect((await s.deviceHead(v, d, a))?.seq).toBe(1)
    })

    it('[RS16] a snapshot that does not dominate the base is stored, prunes nothing and leaves the base', async () => {
      const [v, d, a, b] = [id(), id(), id(), id()]
      await s.appendEnvelopes([rec(v, d, a, 1), rec(v, d, b, 1), rec(v, d, a, 2), rec(v, d, b, 2)])
      await s.appendEnvelopes([snap(v, d, a, 3, [[a, 2], [b, 1]])]) // 5: prunes a1, b1, a2
      expect(await stored(s, v, d)).toEqual([4, 5])
      // b snapshotted concurrently: it holds b up to 2 but a only up to 1.
      expect(await s.appendEnvelopes([snap(v, d, b, 3, [[a, 1], [b, 2]])])).toEqual([6])
      // One that leaves out a device the base covers does not dominate either.
      expect(await s.appendEnvelopes([snap(v, d, b, 4, [[b, 3]])])).toEqual([7])
      expect(await stored(s, v, d)).toEqual([4, 5, 6, 7])
      expect((await s.baseSnapshot(v, d))?.serverSeq).toBe(5)
      // Covering what both snapshots hold dominates again: the old base goes when covered, b's 4 is not.
      await s.appendEnvelopes([snap(v, d, a, 4, [[a, 3], [b, 3]])])
      expect(await stored(s, v, d)).toEqual([7, 8])
      expect((await s.baseSnapshot(v, d))?.serverSeq).toBe(8)
    })

    it('[RS17] after pruning, server seqs go on from the head, device heads remain and a pruned seq cannot return', async () => {
      const [v, d, a, b] = [id(), id(), id(), id()]
      await s.appendEnvelopes([rec(v, d, a, 1), rec(v, d, a, 2), rec(v, d, b, 1)])
      await s.appendEnvelopes([snap(v, d, b, 2, [[a, 2], [b, 1]])])
      expect(await stored(s, v, d)).toEqual([4])
      expect(await s.headSeq(v, d)).toBe(4)
      // Every envelope of a is gone; its chain head is not.
      const head = await s.deviceHead(v, d, a)
      expect([head?.seq, plain(head?.hash)]).toEqual([2, plain(hashOf(a, 2))])
      await expect(s.appendEnvelopes([rec(v, d, a, 2)])).rejects.toThrow()
      await expect(s.appendEnvelopes([rec(v, d, a, 1)])).rejects.toThrow()
      expect(await s.appendEnvelopes([rec(v, d, a, 3)])).toEqual([5])
      expect(await s.headSeq(v, d)).toBe(5)
      expect(await stored(s, v, d)).toEqual([4, 5])
      // A base that covers everything before it leaves itself alone.
      await s.appendEnvelopes([snap(v, d, b, 3, [[a, 3], [b, 2]])])
      expect(await stored(s, v, d)).toEqual([6])
      expect(await s.headSeq(v, d)).toBe(6)
      expect(await s.appendEnvelopes([rec(v, d, b, 4)])).toEqual([7])
    })

    it('[RS18] docUsage counts the stored envelopes of a doc and their bytes', async () => {
      const [v, d, a, b] = [id(), id(), id(), id()]
      expect(await s.docUsage(v, d)).toEqual({ envelopes: 0, bytes: 0 })
      await s.appendEnvelopes([rec(v, d, a, 1, 100), rec(v, d, a, 2, 200), rec(v, d, b, 1, 300), rec(v, id(), a, 1, 999)])
      expect(await s.docUsage(v, d)).toEqual({ envelopes: 3, bytes: 600 })
      await s.appendEnvelopes([snap(v, d, b, 2, [[a, 2], [b, 1]], 150)])
      expect(await s.docUsage(v, d)).toEqual({ envelopes: 1, bytes: 150 })
    })

    it('[RS19] durable: the base, chain heads and pruning survive reopening', async (ctx) => {
      // Needs `reopen`: reported as skipped, not passed, without it.
      if (!reopen) return ctx.skip()
      const [v, d, a, b] = [id(), id(), id(), id()]
      await s.appendEnvelopes([rec(v, d, a, 1), rec(v, d, a, 2), rec(v, d, b, 1)])
      await s.appendEnvelopes([snap(v, d, b, 2, [[a, 2], [b, 1]])])
      s = await reopen()
      expect((await s.baseSnapshot(v, d))?.covers.map((h) => h.seq).sort()).toEqual([1, 2])
      expect((await s.baseSnapshot(v, d))?.serverSeq).toBe(4)
      expect((await s.deviceHead(v, d, a))?.seq).toBe(2)
      expect(await stored(s, v, d)).toEqual([4])
      expect(await s.headSeq(v, d)).toBe(4)
      // A concurrent snapshot still does not dominate the reopened base.
      await s.appendEnvelopes([snap(v, d, a, 3, [[a, 2]])])
      expect(await stored(s, v, d)).toEqual([4, 5])
      expect((await s.baseSnapshot(v, d))?.serverSeq).toBe(4)
    })
  })
}
