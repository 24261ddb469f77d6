import { CloseCode } from '@mindsync/protocol'
import { describe, expect, it } from 'vitest'
import { createRelayCore } from './core.js'
import { createMemoryRelayStorage } from './memoryStorage.js'
import type { RelayStorage } from './storage.js'
import { connectToCore, registerVault, testDocId } from './testing/index.js'

/** Wraps a storage to count batches, hold them at a gate, or fail them. */
function instrumented(inner: RelayStorage = createMemoryRelayStorage()) {
  const batches: number[] = []
  let gate: Promise<void> | undefined
  let failNext = false
  const storage: RelayStorage = {
    ...inner,
    async appendEnvelopes(batch) {
      batches.push(batch.length)
      if (gate) await gate
      if (failNext) {
        failNext = false
        throw new Error('disk full')
      }
      return inner.appendEnvelopes(batch)
    },
  }
  return {
    storage,
    batches,
    hold() {
      let release = () => {}
      gate = new Promise((r) => {
        release = r
      })
      return () => {
        gate = undefined
        release()
      }
    },
    failNextBatch() {
      failNext = true
    },
  }
}

describe('group commit', () => {
  it('writes every push of one event-loop turn in ONE storage call', async () => {
    const st = instrumented()
    const core = createRelayCore({ storage: st.storage })
    const { vault, owner, conn } = await registerVault(core)
    const [d1, d2] = [testDocId(), testDocId()]
    const envs = Array.from({ length: 50 }, (_, i) => vault.envelope(owner, i % 2 ? d1 : d2, `entry ${i}`))
    await new Promise((r) => setTimeout(r, 5))
    const framesBefore = conn.frames()
    // 50 separate frames in one turn, as a socket delivers a burst.
    for (const env of envs) conn.send({ type: 'push', envelope: env.bytes })
    await conn.waitFor('ack', (m) => m.seq === 25 && m.serverSeq === 25)
    expect(st.batches).toEqual([50])
    expect(core.stats().commits).toBe(1)
    const acks = conn.received.filter((m) => m.type === 'ack')
    expect(acks).toHaveLength(50)
    // Acks of one turn leave in one frame too (outgoing coalescing).
    expect(conn.frames() - framesBefore).toBe(1)
  })

  it('acks only after the storage call resolved', async () => {
    const st = instrumented()
    const core = createRelayCore({ storage: st.storage })
    const { vault, owner, conn } = await registerVault(core)
    const release = st.hold()
    conn.send({ type: 'push', envelope: vault.envelope(owner, testDocId(), 'meditated').bytes })
    await new Promise((r) => setTimeout(r, 50))
    expect(st.batches).toEqual([1])
    expect(conn.received.some((m) => m.type === 'ack')).toBe(false)
    release()
    expect(await conn.waitFor('ack')).toMatchObject({ serverSeq: 1 })
  })

  it('pushes arriving while a batch is written form the next batch', async () => {
    const st = instrumented()
    const core = createRelayCore({ storage: st.storage })
    const { vault, owner, conn } = await registerVault(core)
    const doc = testDocId()
    const release = st.hold()
    conn.send({ type: 'push', envelope: vault.envelope(owner, doc, '1').bytes })
    await new Promise((r) => setTimeout(r, 10))
    conn.send({ type: 'push', envelope: vault.envelope(owner, doc, '2').bytes }, { type: 'push', envelope: vault.envelope(owner, doc, '3').bytes })
    await new Promise((r) => setTimeout(r, 10))
    expect(st.batches).toEqual([1])
    release()
    await conn.waitFor('ack', (m) => m.seq === 3)
    expect(st.batches).toEqual([1, 2])
  })

  it('a failed write closes the pushers with internal and stores nothing; a resend then succeeds', async () => {
    const st = instrumented()
    const core = createRelayCore({ storage: st.storage })
    const { vault, owner, conn } = await registerVault(core)
    const doc = testDocId()
    const env = vault.envelope(owner, doc, 'lost?')
    st.failNextBatch()
    conn.send({ type: 'push', envelope: env.bytes })
    expect(await conn.waitClosed()).toMatchObject({ code: CloseCode.internal })
    expect(conn.received.some((m) => m.type === 'ack')).toBe(false)

    const again = await connectToCore(core, owner, vault.vaultId)
    again.send({ type: 'push', envelope: env.bytes })
    expect(await again.waitFor('ack')).toMatchObject({ seq: 1, serverSeq: 1 })
  })

  it('[GC1] with a commit delay, pushes of separate turns within it share one disk write; the other devices get them at once', async () => {
    const st = instrumented()
    const core = createRelayCore({ storage: st.storage, commitDelayMs: 40 })
    const { vault, owner, conn } = await registerVault(core)
    const doc = testDocId()
    const reader = await connectToCore(core, owner, vault.vaultId)
    reader.send({ type: 'subscribe', docId: doc, cursor: 0 })
    await reader.waitFor('caughtUp')
    const t = performance.now()
    for (let i = 0; i < 4; i++) {
      conn.send({ type: 'push', envelope: vault.envelope(owner, doc, `turn ${i}`).bytes })
      await new Promise((r) => setTimeout(r, 3))
    }
    // Early fan-out does not wait for the commit.
    await reader.waitFor('envelopes', (m) => m.items.length > 0 && reader.received.filter((x) => x.type === 'envelopes').length === 4)
    expect(st.batches).toEqual([])
    await conn.waitFor('ack', (m) => m.seq === 4)
    expect(performance.now() - t).toBeGreaterThanOrEqual(35)
    expect(st.batches).toEqual([4])
  })

  it('shutdown finishes the batch, sends the acks, then closes with 1001', async () => {
    const st = instrumented()
    const core = createRelayCore({ storage: st.storage })
    const { vault, owner, conn } = await registerVault(core)
    conn.send({ type: 'push', envelope: vault.envelope(owner, testDocId(), 'last words').bytes })
    await core.shutdown()
    expect(conn.received.find((m) => m.type === 'ack')).toMatchObject({ serverSeq: 1 })
    expect(conn.closedWith()).toEqual({ code: CloseCode.goingAway, reason: 'relay shutting down' })
  })
})
