import { Scope, createWebSocketTransport } from '@mindsync/client'
import type { Transport } from '@mindsync/client'
import { EnvelopeKind, decodeEnvelope } from '@mindsync/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admit, founder, notes, write } from '../harness/devices.js'
import type { TestDevice } from '../harness/devices.js'
import { NodeWebSocket, relayRows, startRelay, tempDir } from '../helpers.js'
import type { RelayProcess } from '../helpers.js'

const ENTRIES = 100_000

/** A WebSocket transport that counts the bytes the relay sends to this device. */
function countingTransport(): { transport: Transport; received: () => number } {
  const inner = createWebSocketTransport({ WebSocket: NodeWebSocket })
  let received = 0
  return {
    received: () => received,
    transport: {
      connect: (request, handlers) =>
        inner.connect(request, {
          onFrame: (frame) => {
            received += frame.length
            handlers.onFrame(frame)
          },
          onClose: handlers.onClose,
        }),
    },
  }
}

describe('snapshots and compaction on a real relay (SQLite file, WebSocket on loopback)', () => {
  const tmp = tempDir()
  let relay: RelayProcess
  const devices: TestDevice[] = []

  beforeAll(async () => {
    relay = await startRelay(`${tmp.dir}/relay.db`)
  })
  afterAll(async () => {
    for (const d of devices) await d.client.close()
    if (process.env.DEBUG_RELAY) console.log(relay.stderr())
    await relay.stop()
    tmp.cleanup()
  })

  it(`[S1] a journal of ${ENTRIES.toLocaleString('en')} entries written as as many updates: the relay then stores, and a new device downloads, less than twice one snapshot`, async () => {
    const writerNet = countingTransport()
    const writer = await founder('writer', writerNet.transport, { url: relay.url })
    devices.push(writer)
    // Offline, one envelope per entry.
    for (let i = 0; i < ENTRIES; i++) {
      writer.journal!.logSession({ minutes: 10, technique: 'breath', note: `entry ${i}` })
      await writer.client.flush()
    }
    expect((await writer.store.listOutbox(writer.doc!.key)).length).toBe(ENTRIES)
    await writer.client.syncOnce({ timeoutMs: 600_000 })

    // The relay: the newest snapshot and what came after it (the sync's checkpoint), nothing it covers.
    const docRows = relayRows(relay.db) // the journal is the vault's only doc
    const snapshots = docRows.filter((r) => r.kind === EnvelopeKind.snapshot)
    expect(snapshots.length).toBe(1)
    const snapshotBytes = snapshots[0]!.bytes.length
    const storedBytes = docRows.reduce((n, r) => n + r.bytes.length, 0)
    console.log(`[S1] snapshot ${snapshotBytes} B; relay stores ${docRows.length} envelopes, ${storedBytes} B`)
    expect(storedBytes).toBeLessThan(2 * snapshotBytes)
    // The writer's own store was compacted the same way.
    const local = await writer.store.listEnvelopes(writer.doc!.key)
    expect(local.reduce((n, e) => n + e.envelope.length, 0)).toBeLessThan(2 * snapshotBytes)

    // A new device starts from the snapshot.
    const readerNet = countingTransport()
    const reader = await admit(writer, 'reader', readerNet.transport, undefined, { url: relay.url })
    devices.push(reader)
    const before = readerNet.received()
    await reader.client.syncOnce({ timeoutMs: 120_000 })
    const downloaded = readerNet.received() - before
    console.log(`[S1] new device downloaded ${downloaded} B for the journal`)
    expect(downloaded).toBeLessThan(2 * snapshotBytes)
    expect(reader.journal!.sessions().length).toBe(ENTRIES)
    expect(reader.journal!.totals()).toEqual(writer.journal!.totals())
  }, 600_000)

  it('[S3] after a rotation the next sync seals the old data again under the new epoch and the relay drops every older envelope', async () => {
    const relay2 = await startRelay(`${tmp.dir}/relay-rotation.db`)
    try {
      const net = createWebSocketTransport({ WebSocket: NodeWebSocket })
      const phone = await founder('phone', net, { url: relay2.url })
      const laptop = await admit(phone, 'laptop', net, undefined, { url: relay2.url })
      const reader = await admit(phone, 'reader', net, Scope.read, { url: relay2.url })
      devices.push(phone, laptop, reader)
      const readerRefusals: string[] = []
      reader.client.on('rejected', (r) => readerRefusals.push(`${r.origin} ${r.code}: ${r.message}`))
      for (const [i, d] of [phone, laptop, phone].entries()) {
        await write(d, `before rotation ${i}`)
        await d.client.syncOnce()
      }
      await phone.client.syncOnce()
      const epochsBefore = new Set(relayRows(relay2.db).map((r) => decodeEnvelope(r.bytes).header.epoch))
      expect(epochsBefore).toEqual(new Set([0]))
      await reader.client.syncOnce()
      const epoch = await phone.client.rotate()
      // A read-only device holding old-epoch data cannot seal it again: it does not try (no refusal to report).
      await reader.client.syncOnce()
      expect(readerRefusals).toEqual([])
      await phone.client.syncOnce()
      const rows = relayRows(relay2.db)
      expect(new Set(rows.map((r) => decodeEnvelope(r.bytes).header.epoch))).toEqual(new Set([epoch]))
      expect(rows.some((r) => r.kind === EnvelopeKind.snapshot)).toBe(true)
      // Nothing was lost: the laptop, and a device joining now, read every entry.
      await laptop.client.syncOnce()
      const late = await admit(phone, 'late', net, undefined, { url: relay2.url })
      devices.push(late)
      await late.client.syncOnce()
      await reader.client.syncOnce()
      for (const d of [laptop, late, reader]) expect(notes(d)).toEqual(['before rotation 0', 'before rotation 1', 'before rotation 2'])
    } finally {
      await relay2.stop()
    }
  }, 60_000)
})
