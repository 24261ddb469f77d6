import { join } from 'node:path'
import { createSyncClient, createWebSocketTransport } from '@mindsync/client'
import type { LocalEnvelope } from '@mindsync/client'
import { createJournal } from '@mindsync/practice'
import { createSqliteStore } from '@mindsync/store-sqlite'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { decodeEnvelope } from '@mindsync/protocol'
import { NodeWebSocket, deviceIdIn, freePort, ok, pairHome, relayRows, showJson, startRelay, tempDir } from '../helpers.js'
import type { RelayProcess } from '../helpers.js'

const ENTRIES = 2_000
/** The relay is killed when the device records this acknowledgement. */
const KILL_AT_ACK = 20

describe('a relay that crashes mid-sync', () => {
  const tmp = tempDir()
  const relays: RelayProcess[] = []
  const home = (name: string): string => join(tmp.dir, name)
  afterAll(async () => {
    for (const r of relays) if (r.child.exitCode === null && r.child.signalCode === null) await r.stop()
    tmp.cleanup()
  })

  it('[E5] the relay killed with SIGKILL in the middle of a sync loses no entry it acknowledged; after a restart every device converges', async () => {
    // A fixed port, so the restarted relay has the URL the CLI homes recorded.
    const port = await freePort()
    const db = join(tmp.dir, 'relay', 'relay.db')
    const first = await startRelay(db, port)
    relays.push(first)
    const phoneId = deviceIdIn((await ok(home('phone'), ['init', '--relay', first.url, '--name', 'phone'])).stdout)
    await ok(home('phone'), ['sync'])
    await pairHome(home('phone'), home('laptop'), first.url, 'laptop', 'admin')
    await ok(home('laptop'), ['log', 'mood', '--mood', '4', '--note', 'laptop-before-crash'])
    await ok(home('laptop'), ['sync'])

    // The phone's own store, opened in this process: many entries, one envelope each.
    // synchronous=normal only to keep 2,000 commits fast: this process does not crash, the relay does.
    const store = createSqliteStore(join(home('phone'), 'device.db'), { synchronous: 'normal' })
    let acks = 0
    const acknowledge = store.acknowledge.bind(store)
    store.acknowledge = async (docId, seq, serverSeq) => {
      if (++acks === KILL_AT_ACK) first.child.kill('SIGKILL')
      await acknowledge(docId, seq, serverSeq)
    }
    const client = await createSyncClient({ store, transport: createWebSocketTransport({ WebSocket: NodeWebSocket }), url: first.url })
    expect(client.deviceId).toBe(phoneId)
    const doc = new Y.Doc()
    const journal = createJournal(doc, { device: client.deviceId })
    const docSync = await client.bind('journal', doc)
    const own = (items: LocalEnvelope[]) => items.filter((e) => e.author === phoneId)
    const earlierOwn = own(await store.listEnvelopes(docSync.key)).length
    for (let i = 0; i < ENTRIES; i++) {
      journal.logSession({ minutes: 1 + (i % 90), technique: 'breath', note: `crash-${i}` })
      await client.flush()
    }
    expect((await store.listOutbox(docSync.key)).length).toBe(ENTRIES)

    const killed = new Promise<void>((resolve) => first.child.once('exit', () => resolve()))
    await expect(client.syncOnce({ timeoutMs: 20_000 })).rejects.toThrow()
    await killed
    expect(first.child.signalCode).toBe('SIGKILL')
    const stored = await store.listEnvelopes(docSync.key)
    const remaining = (await store.listOutbox(docSync.key)).length
    await client.close()

    // The kill landed mid-sync: some acknowledgements recorded, some envelopes still waiting.
    const acked = own(stored).filter((e) => e.serverSeq !== null)
    expect(acked.length).toBeGreaterThanOrEqual(KILL_AT_ACK)
    expect(remaining).toBeGreaterThan(0)
    // (+ the checkpoints the CLI's earlier syncs wrote, acknowledged then.)
    expect(acked.length + remaining).toBe(ENTRIES + earlierOwn)

    // Every acknowledged envelope is in the dead relay's file, byte for byte, at the serverSeq it was acknowledged with.
    const rows = relayRows(db)
    expect(new Set(rows.map((r) => r.doc)).size).toBe(1)
    const onRelay = new Map(rows.map((r) => [r.serverSeq, r]))
    const missing = acked.filter((e) => !onRelay.get(e.serverSeq as number)?.bytes.equals(e.envelope))
    expect(missing.map((e) => `${e.seq}@${e.serverSeq}`)).toEqual([])
    expect(acked.every((e) => onRelay.get(e.serverSeq as number)?.deviceId === phoneId)).toBe(true)

    // Restart on the same port and file; both devices sync with the CLI and converge.
    const second = await startRelay(db, port)
    relays.push(second)
    expect(second.url).toBe(first.url)
    await ok(home('phone'), ['sync'])
    await ok(home('laptop'), ['sync'])
    const [phone, laptop] = await Promise.all([showJson(home('phone')), showJson(home('laptop'))])
    expect(laptop.text).toBe(phone.text)
    const notes = phone.journal.sessions.map((s) => s.note)
    expect(new Set(notes).size).toBe(ENTRIES)
    expect(notes.filter((n) => /^crash-\d+$/.test(n))).toHaveLength(ENTRIES)
    expect(phone.journal.checkins.map((c) => c.note)).toEqual(['laptop-before-crash'])
    // The relay now holds each of the phone's envelopes at most once, and every one its newest
    // snapshot does not cover (the rest it pruned). Its chain also holds checkpoints (kind 3).
    const finalRows = relayRows(db)
    const covered = Math.max(0, ...finalRows.filter((r) => r.kind === 2).flatMap((r) => (decodeEnvelope(r.bytes).header.covers ?? []).filter((c) => Buffer.from(c.deviceId).toString('hex') === phoneId).map((c) => c.seq)))
    const seqs = finalRows.filter((r) => r.deviceId === phoneId).map((r) => r.seq).sort((a, b) => a - b)
    expect(new Set(seqs).size).toBe(seqs.length)
    const tail = seqs.filter((s) => s > covered)
    expect(tail).toEqual(Array.from({ length: tail.length }, (_, i) => covered + 1 + i))
    expect(covered + tail.length).toBe(seqs.at(-1))
  }, 60_000)
})
