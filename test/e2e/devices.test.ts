import { join } from 'node:path'
import { Membership } from '@mindsync/client'
import type { Status } from '@mindsync/client'
import { decodeEnvelope, decodeOp, deriveKey, openEnvelope } from '@mindsync/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli, notesOf, ok, openDevice, pairHomes, relayOps, relayRows, showJson, startRelay, tempDir, waitUntil } from '../helpers.js'
import type { RelayProcess, RelayRow } from '../helpers.js'

const rowKey = (r: RelayRow): string => `${r.doc}:${r.serverSeq}`

/** The body of a stored envelope under one epoch key, or undefined when it does not open. */
function tryOpen(bytes: Uint8Array, epochKey: Uint8Array): Uint8Array | undefined {
  try {
    return openEnvelope(decodeEnvelope(bytes), deriveKey(epochKey, 'envelope'))
  } catch {
    return undefined
  }
}

/**
 * Every epoch key a (removed) device ever held: those in its own store, and
 * any it gets by applying the relay's whole membership log (read from the
 * relay's database) to a membership built from its identity.
 */
async function everyKeyOf(home: string, relayDb: string, vaultHex: string): Promise<{ keys: Uint8Array[]; epochs: number[] }> {
  const device = await openDevice(home)
  try {
    const replay = new Membership(device.identity)
    for (const row of relayOps(relayDb, vaultHex)) replay.apply(decodeOp(new Uint8Array(row.bytes)))
    const keys = [...device.membership.keys.values(), ...replay.keys.values()]
    const epochs = [...new Set([...device.membership.keys.keys(), ...replay.keys.keys()])].sort((a, b) => a - b)
    return { keys, epochs }
  } finally {
    await device.close()
  }
}

/** Each stored envelope of the relay, opened with the first of `keys` that opens it (undefined: none does). */
function openEach(rows: RelayRow[], keys: Uint8Array[]): { row: RelayRow; body: Uint8Array | undefined }[] {
  return rows.map((row) => ({ row, body: keys.map((k) => tryOpen(row.bytes, k)).find((b) => b !== undefined) }))
}

describe('removing a device', () => {
  const tmp = tempDir()
  let relay: RelayProcess
  const home = (name: string): string => join(tmp.dir, name)

  beforeAll(async () => {
    relay = await startRelay(join(tmp.dir, 'relay', 'relay.db'))
  })
  afterAll(async () => {
    await relay?.stop()
    tmp.cleanup()
  })

  it('[D1] a removed device is refused at once and can open nothing written after its removal, with every key it ever held', async () => {
    const h = (n: string): string => home(`d1-${n}`)
    const init = await ok(h('phone'), ['init', '--relay', relay.url, '--name', 'phone'])
    const vaultHex = init.last
    await ok(h('phone'), ['sync'])
    const [, oldId, tabletId] = await pairHomes(h('phone'), relay.url, [
      { home: h('laptop'), name: 'laptop', scope: 'admin' },
      { home: h('old'), name: 'old-phone', scope: 'write' },
      { home: h('tablet'), name: 'tablet', scope: 'write' },
    ])

    const BEFORE = { phone: 'd1-before-phone-41c2', laptop: 'd1-before-laptop-9e07', old: 'd1-before-old-5b3a', tablet: 'd1-before-tablet-c8d1' }
    await Promise.all(
      Object.entries(BEFORE).map(async ([name, note]) => {
        await ok(h(name), ['log', 'session', '--minutes', '10', '--note', note])
        await ok(h(name), ['sync'])
      }),
    )
    await Promise.all(Object.keys(BEFORE).map((name) => ok(h(name), ['sync'])))
    const beforeRows = relayRows(relay.db)
    expect(beforeRows.length).toBe(4)
    const before = new Set(beforeRows.map(rowKey))

    // The old phone is online (a library client, as an app holds it) when another device removes it.
    const live = await openDevice(h('old'), relay.url)
    const statuses: { status: Status; code?: string }[] = []
    live.on('status', (e) => statuses.push(e.error ? { status: e.status, code: e.error.code } : { status: e.status }))
    try {
      live.connect()
      await waitUntil(() => live.status === 'online', 10_000, () => `the old phone to be online (${JSON.stringify(statuses)})`)
      const onlineAt = statuses.length
      const removed = await ok(h('phone'), ['devices', 'remove', oldId!])
      expect(removed.stdout).toContain(`removed device ${oldId}`)
      await waitUntil(() => live.status === 'revoked', 3_000, () => `the old phone to be revoked (${JSON.stringify(statuses)})`)
      // Refused on the live connection, with the reason, and it does not try to reconnect.
      expect(statuses.slice(onlineAt)).toEqual([{ status: 'revoked', code: 'E_REVOKED' }])
      await new Promise((r) => setTimeout(r, 300))
      expect(statuses.slice(onlineAt)).toEqual([{ status: 'revoked', code: 'E_REVOKED' }])
    } finally {
      await live.close()
    }

    // The tablet is offline when the laptop removes it: it learns nothing until it tries to sync.
    await ok(h('laptop'), ['devices', 'remove', tabletId!])

    const AFTER = { phone: 'd1-after-phone-77aa', laptop: 'd1-after-laptop-0f19' }
    await Promise.all(
      Object.entries(AFTER).map(async ([name, note]) => {
        await ok(h(name), ['sync'])
        await ok(h(name), ['log', 'mood', '--mood', '4', '--note', note])
        await ok(h(name), ['sync'])
      }),
    )
    await ok(h('phone'), ['sync'])
    expect(notesOf((await showJson(h('phone'))).journal)).toEqual([...Object.values(BEFORE), ...Object.values(AFTER)].sort())

    // Both removed devices are refused with the reason, whether they had learnt of their removal or not.
    await Promise.all(
      ['old', 'tablet'].map(async (name) => {
        const r = await cli(h(name), ['sync'])
        expect(r.code, `${name}: ${r.stdout}${r.stderr}`).not.toBe(0)
        expect(r.stderr).toMatch(/removed/)
        expect(r.stderr).toContain('E_REVOKED')
      }),
    )

    const rows = relayRows(relay.db)
    const afterRows = rows.filter((r) => !before.has(rowKey(r)))
    expect(afterRows.length).toBe(2)
    expect(relayOps(relay.db, vaultHex).length).toBe(6)
    for (const [name, epochs] of [['old', [0]], ['tablet', [0, 1]]] as const) {
      const held = await everyKeyOf(h(name), relay.db, vaultHex)
      expect(held.epochs, name).toEqual(epochs)
      const opened = openEach(rows, held.keys)
      // The check can fail: every envelope from before the removal opens, and holds the notes written then.
      const beforeBodies = opened.filter((o) => before.has(rowKey(o.row))).map((o) => o.body)
      expect(beforeBodies.filter((b) => b === undefined).length, `${name}: envelopes from before its removal that do not open`).toBe(0)
      const text = Buffer.concat(beforeBodies.map((b) => Buffer.from(b!))).toString('latin1')
      for (const note of Object.values(BEFORE)) expect(text).toContain(note)
      // Nothing written after the removal opens.
      const readable = opened.filter((o) => !before.has(rowKey(o.row)) && o.body !== undefined).map((o) => rowKey(o.row))
      expect(readable, `${name}: envelopes written after its removal that open`).toEqual([])
    }
  }, 55_000)

  /*
   * Known gap, kept as a failing test: a device that logs while it has not yet
   * synced a removal seals under the epoch it knows. The relay accepts any
   * epoch up to the vault's and the other devices accept it too, so an entry
   * written after the removal stays readable with a key the removed device
   * held. Closing it needs the writer to reseal unacknowledged outbox entries
   * under the newest epoch once it learns of a new epoch (before pushing
   * them), or devices and relay refusing envelopes of an epoch closed by a
   * removal.
   */
  it.fails('[D1b] an entry logged after a removal by a device that had not synced the removal yet is unreadable to the removed device', async () => {
    const h = (n: string): string => home(`d1b-${n}`)
    const init = await ok(h('phone'), ['init', '--relay', relay.url, '--name', 'phone'])
    await ok(h('phone'), ['sync'])
    const [, oldId] = await pairHomes(h('phone'), relay.url, [
      { home: h('laptop'), name: 'laptop', scope: 'admin' },
      { home: h('old'), name: 'old', scope: 'write' },
    ])
    await ok(h('phone'), ['devices', 'remove', oldId!])
    // The laptop has not synced since the removal: it logs offline, then syncs.
    const note = 'd1b-stale-epoch-laptop-3e9f'
    await ok(h('laptop'), ['log', 'session', '--minutes', '5', '--note', note])
    await ok(h('laptop'), ['sync'])
    const held = await everyKeyOf(h('old'), relay.db, init.last)
    expect(held.epochs).toEqual([0])
    const readable = openEach(relayRows(relay.db), held.keys).filter((o) => o.body !== undefined && Buffer.from(o.body).toString('latin1').includes(note))
    expect(readable.map((o) => `${o.row.deviceId} seq ${o.row.seq} epoch ${decodeEnvelope(o.row.bytes).header.epoch}`), 'entries written after the removal that the removed device opens').toEqual([])
  }, 30_000)
})
