import { createSyncClient } from '@mindsync/client'
import type { Transport } from '@mindsync/client'
import { toHex } from '@mindsync/crypto'
import { EnvelopeKind, decodeEnvelope, decodeFrame, encodeFrame } from '@mindsync/protocol'
import type { RelayMessage } from '@mindsync/protocol'
import { createMemoryRelayStorage, createRelayCore, silentLog } from '@mindsync/relay'
import type { RelayCore, RelayStorage } from '@mindsync/relay'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createCoreTransport } from '../harness/coreTransport.js'
import { admit, founder, notes, online, until, write } from '../harness/devices.js'

/**
 * A relay that can crash: its storage can be made to stop committing (the
 * disk sync never returns), and `crash()` drops every connection and starts
 * a fresh relay on what the storage holds, as a restarted daemon would.
 */
function crashableRelay(): { transport: Transport; stall(): void; crash(): void; storage: RelayStorage } {
  const storage = createMemoryRelayStorage()
  let stalled = false
  let generation = 0
  // Each relay process writes through its own handle: once it has crashed, its writes never land.
  const diskOf = (gen: number): RelayStorage => ({
    ...storage,
    appendEnvelopes: (batch) => (stalled || gen !== generation ? new Promise<never>(() => {}) : storage.appendEnvelopes(batch)),
  })
  const start = (): RelayCore => createRelayCore({ storage: diskOf(generation), log: silentLog })
  let core = start()
  let inner = createCoreTransport(core)
  let connections: { close(): void }[] = []
  const transport: Transport = {
    async connect(request, handlers) {
      let open = true
      const c = await inner.connect(request, {
        onFrame: (f) => open && handlers.onFrame(f),
        onClose: (code, reason) => {
          if (!open) return
          open = false
          handlers.onClose(code, reason)
        },
      })
      const entry = {
        close() {
          if (!open) return
          open = false
          handlers.onClose(1006, 'relay process died')
        },
      }
      connections.push(entry)
      return { send: (frame) => open && c.send(frame), close: (code, reason) => c.close(code, reason) }
    },
  }
  return {
    transport,
    storage,
    stall: () => {
      stalled = true
    },
    crash() {
      for (const c of connections) c.close()
      connections = []
      stalled = false
      generation++
      core = start()
      inner = createCoreTransport(core)
    },
  }
}

describe('early fan-out', () => {
  it('[EF1] a relay that dies after sending an envelope early and before storing it is not taken for one that rolled back; the author pushes it again and every device converges', async () => {
    const relay = crashableRelay()
    const options = { reconnect: { minMs: 5, maxMs: 20 } }
    const phone = await founder('phone', relay.transport, options)
    const laptop = await admit(phone, 'laptop', relay.transport, undefined, options)
    await write(laptop, 'stored before')
    await online(phone)
    await online(laptop)
    await until('phone has the first entry', () => notes(phone).includes('stored before'))
    await until('the relay stored the first entry', () => laptop.doc!.outboxSize === 0)

    // The disk stops answering: the laptop's next entry reaches the phone early, unacknowledged and unstored.
    relay.stall()
    await write(laptop, 'sent early')
    await until('phone applied the early envelope', () => notes(phone).includes('sent early'))
    expect(laptop.doc!.outboxSize).toBe(1)

    // The relay dies; a new one starts on what its storage holds, without that envelope.
    relay.crash()
    await online(phone)
    await online(laptop)
    await until('the laptop pushed it again and the relay acknowledged it', () => laptop.doc!.outboxSize === 0)
    await phone.client.syncOnce()
    await laptop.client.syncOnce()

    expect(phone.client.alerts()).toEqual([])
    expect(laptop.client.alerts()).toEqual([])
    expect(notes(phone)).toEqual(['sent early', 'stored before'])
    expect(notes(laptop)).toEqual(notes(phone))
    // Stored once, though the phone saw it twice (early, then again from the new relay).
    const vault = Uint8Array.from(Buffer.from(laptop.client.vaultId!, 'hex'))
    const stored = await relay.storage.readEnvelopes(vault, laptop.doc!.docId, 0, 1000, 1 << 24)
    const updates = stored.map((s) => decodeEnvelope(s.envelope).header).filter((h) => h.kind === EnvelopeKind.update && toHex(h.deviceId) === laptop.client.deviceId)
    expect(updates.map((h) => h.seq)).toEqual([1, 2])
    await phone.client.close()
    await laptop.client.close()
  })

  it('[EF2] the stored marker moves a device’s durable cursor, so a relay that later loses those envelopes is reported as a rollback', async () => {
    const relay = crashableRelay()
    const options = { reconnect: { minMs: 5, maxMs: 20 } }
    const phone = await founder('phone', relay.transport, options)
    const laptop = await admit(phone, 'laptop', relay.transport, undefined, options)
    await online(phone)
    await online(laptop)
    await write(laptop, 'one')
    await write(laptop, 'two')
    await until('laptop acknowledged', () => laptop.doc!.outboxSize === 0)
    // The phone got both early (serverSeq 0); only the stored marker can move its cursor.
    await until('the phone stored cursor 2', async () => (await phone.store.getCursor(phone.doc!.key)) === 2)
    await phone.client.close()
    await laptop.client.close()

    // A relay that lost the stored envelopes (it kept the membership log).
    const vault = Uint8Array.from(Buffer.from(phone.client.vaultId!, 'hex'))
    const rolledBack = createMemoryRelayStorage()
    for (const [i, op] of ((await relay.storage.loadOps(vault)) ?? []).entries()) await rolledBack.appendOp(vault, i, op)
    const again = await createSyncClient({ store: phone.store, transport: createCoreTransport(createRelayCore({ storage: rolledBack, log: silentLog })), url: 'mem://relay' })
    await again.bind('journal', new Y.Doc())
    await again.syncOnce().catch(() => {})
    expect(again.alerts().map((a) => a.kind)).toContain('rollback')
    await again.close()
  })

  it('[EF3] what a device states to the others (checkpoints) stops at what the relay stored: after a crash lost envelopes it sent early, no device is told they exist, and nothing is reported withheld', async () => {
    const relay = crashableRelay()
    const options = { reconnect: { minMs: 5, maxMs: 20 } }
    const phone = await founder('phone', relay.transport, options)
    const laptop = await admit(phone, 'laptop', relay.transport, undefined, options)
    const watch = await admit(phone, 'watch', relay.transport, undefined, options)
    await online(phone)
    await online(laptop)
    relay.stall()
    await write(laptop, 'lost one')
    await write(laptop, 'lost two')
    await until('phone applied both early', () => notes(phone).includes('lost two'))
    await laptop.client.close() // the author goes away with both in its outbox

    relay.crash()
    // The phone syncs (writing a checkpoint), then the watch reads it, before the laptop is back.
    await phone.client.syncOnce()
    await watch.client.syncOnce()
    expect(phone.client.alerts()).toEqual([])
    expect(watch.client.alerts()).toEqual([])
    expect(notes(watch)).toEqual([])
    await phone.client.close()
    await watch.client.close()
  })

  it('[EF4] a relay that confirms an author\u2019s envelopes as stored and then withholds one of them is reported, although the hole was first noticed before the confirmation', async () => {
    const core = createRelayCore({ storage: createMemoryRelayStorage(), log: silentLog })
    const honest = createCoreTransport(core)
    let victim = ''
    let hidden = { author: '', seq: 0 }
    // Towards the victim, the relay drops one envelope, early and when fetched, and forwards everything else.
    const hiding: Transport = {
      async connect(request, handlers) {
        return honest.connect(request, {
          onClose: handlers.onClose,
          onFrame(frame) {
            if (toHex(request.signPub) !== victim) return handlers.onFrame(frame)
            const keep = (m: RelayMessage): RelayMessage => {
              if (m.type !== 'envelopes') return m
              const items = m.items.filter((it) => {
                const h = decodeEnvelope(it.envelope).header
                return !(toHex(h.deviceId) === hidden.author && h.seq === hidden.seq)
              })
              return { ...m, items }
            }
            handlers.onFrame(encodeFrame((decodeFrame(frame) as RelayMessage[]).map(keep)))
          },
        })
      },
    }
    const phone = await founder('phone', hiding)
    const laptop = await admit(phone, 'laptop', hiding)
    victim = toHex(phone.client.identity.signPub)
    hidden = { author: laptop.client.deviceId, seq: 2 }
    await online(phone)
    await online(laptop)
    await write(laptop, 'one')
    await write(laptop, 'two (withheld)')
    await write(laptop, 'three')
    // The phone sees seq 3 early, asks for seq 2 at once (not stored yet as far as it knows: no alert),
    // then the stored marker confirms seq 3: asked again, still not served, now withheld.
    await until('the phone reports seq 2 withheld', () => phone.client.alerts().some((a) => a.kind === 'withheld'))
    expect(phone.client.alerts()[0]).toMatchObject({ kind: 'withheld', author: laptop.client.deviceId, evidence: { from: 2, to: 2, missing: 1 } })
    // Yjs holds 'three' until 'two', from the same writer, arrives.
    expect(notes(phone)).toEqual(['one'])
    await phone.client.close()
    await laptop.client.close()
  })
})
