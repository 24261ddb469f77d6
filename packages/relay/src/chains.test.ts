import type { Envelope } from '@mindsync/protocol'
import { describe, expect, it } from 'vitest'
import { createChains } from './chains.js'
import type { PendingPush } from './chains.js'
import type { Connection } from './connection.js'
import { createMemoryRelayStorage } from './memoryStorage.js'
import { createTestDevice, createTestVault, testDocId } from './testing/index.js'

const pusher = {} as Connection

async function setup() {
  const storage = createMemoryRelayStorage()
  const chains = createChains(storage, 100)
  const owner = createTestDevice()
  const vault = createTestVault(owner)
  const doc = testDocId()
  const envelopes = ['a', 'b', 'c'].map((text) => vault.envelope(owner, doc, text))
  const items: PendingPush[] = []
  for (const env of envelopes) {
    const verdict = await chains.admit(env, pusher)
    if (verdict.kind !== 'accept') throw new Error(`expected accept, got ${JSON.stringify(verdict)}`)
    items.push(verdict.item)
  }
  /** The seqs of the pending envelopes served for [from, to]. */
  const pendingSeqs = (from: number, to: number): number[] =>
    chains.pendingBySeq(vault.vaultId, doc, owner.deviceId, from, to).map((bytes) => items.findIndex((i) => i.record.bytes === bytes) + 1)
  return { chains, vault, owner, doc, envelopes, items: items as [PendingPush, PendingPush, PendingPush], pendingSeqs }
}

describe('chains: pushes accepted and not stored yet', () => {
  it('[CH1] are served by seq range until each is stored, and only then stop counting', async () => {
    const { chains, vault, owner, doc, items, pendingSeqs } = await setup()
    expect(pendingSeqs(1, 3)).toEqual([1, 2, 3])
    expect(pendingSeqs(2, 2)).toEqual([2])
    expect(pendingSeqs(4, 9)).toEqual([])
    chains.stored(items[0])
    expect(pendingSeqs(1, 3)).toEqual([2, 3])
    chains.stored(items[1])
    chains.stored(items[2])
    expect(pendingSeqs(1, 3)).toEqual([])
    // The head stays where the accepted pushes took it.
    expect(await chains.headSeq(vault.vaultId, doc, owner.deviceId)).toBe(3)
  })

  it('[CH2] a resend of a waiting seq gets the same item; different bytes at that seq are equivocation', async () => {
    const { chains, vault, owner, doc, envelopes, items } = await setup()
    expect(await chains.admit(envelopes[1] as Envelope, pusher)).toEqual({ kind: 'pending', item: items[1] })
    chains.stored(items[0])
    expect(await chains.admit(envelopes[2] as Envelope, pusher)).toEqual({ kind: 'pending', item: items[2] })
    const other = vault.envelope(owner, doc, 'not b', { seq: 2, prevHash: items[0].record.hash, detached: true })
    expect(await chains.admit(other, pusher)).toMatchObject({ kind: 'reject', code: 'E_EQUIVOCATION' })
  })

  it('[CH3] stored out of order, each leaves exactly itself behind, and a resend still finds the rest', async () => {
    const { chains, envelopes, items, pendingSeqs } = await setup()
    chains.stored(items[1])
    expect(pendingSeqs(1, 3)).toEqual([1, 3])
    chains.stored(items[1])
    expect(pendingSeqs(1, 3)).toEqual([1, 3])
    expect(await chains.admit(envelopes[0] as Envelope, pusher)).toEqual({ kind: 'pending', item: items[0] })
    expect(await chains.admit(envelopes[2] as Envelope, pusher)).toEqual({ kind: 'pending', item: items[2] })
    chains.stored(items[2])
    chains.stored(items[0])
    expect(pendingSeqs(1, 3)).toEqual([])
  })

  it('[CH4] a failed commit forgets the chain: the head is read from storage again and nothing stays pending', async () => {
    const { chains, vault, owner, doc, items, pendingSeqs } = await setup()
    chains.failed(items)
    expect(pendingSeqs(1, 3)).toEqual([])
    expect(await chains.headSeq(vault.vaultId, doc, owner.deviceId)).toBe(0)
  })
})
