import type { Status } from '@mindsync/client'
import { EnvelopeKind, decodeEnvelope } from '@mindsync/protocol'
import { describe, expect, it } from 'vitest'
import { cli, everyKeyOf, ok, openDevice, openEach, pairHomes, relayOps, relayRows, useRelay, waitUntil } from '../helpers.js'
import type { RelayRow } from '../helpers.js'

const rowKey = (r: RelayRow): string => `${r.doc}:${r.serverSeq}`

describe('removing a device', () => {
  const { relay, home } = useRelay()

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
    const beforeRows = relayRows(relay.db)
    expect(beforeRows.filter((r) => r.kind === EnvelopeKind.update).length).toBe(4)
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
    const beforeTabletRows = relayRows(relay.db)
    const beforeTablet = new Set(beforeTabletRows.map(rowKey))
    await ok(h('laptop'), ['devices', 'remove', tabletId!])

    // The devices that stay write on: the phone first learns of the second removal, the laptop made it.
    const AFTER = { phone: 'd1-after-phone-77aa', laptop: 'd1-after-laptop-0f19' }
    await Promise.all([
      (async () => {
        await ok(h('phone'), ['sync'])
        await ok(h('phone'), ['log', 'mood', '--mood', '4', '--note', AFTER.phone])
        await ok(h('phone'), ['sync'])
      })(),
      (async () => {
        await ok(h('laptop'), ['log', 'mood', '--mood', '2', '--note', AFTER.laptop])
        await ok(h('laptop'), ['sync'])
      })(),
    ])

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
    // Every envelope stored since a removal (updates and any other kind) is checked below.
    const afterRows = rows.filter((r) => !beforeTablet.has(rowKey(r)))
    expect(afterRows.filter((r) => r.kind === EnvelopeKind.update).length).toBe(2)
    expect(relayOps(relay.db, vaultHex).length).toBe(6)
    // The entries written after the removals are there, under the newest epoch: a remaining device opens them.
    const phone = await openDevice(h('phone'))
    const phoneKeys = [...phone.membership.keys.values()]
    await phone.close()
    const afterText = openEach(afterRows, phoneKeys)
      .map((o) => Buffer.from(o.body ?? new Uint8Array(0)).toString('latin1'))
      .join('')
    for (const note of Object.values(AFTER)) expect(afterText).toContain(note)
    expect(afterRows.map((r) => decodeEnvelope(r.bytes).header.epoch).every((e) => e === 2)).toBe(true)
    // A snapshot under the newest epoch covers what came before, and the relay pruned it: the rows
    // read at each removal stand for what the removed device could have fetched.
    const seenRows = [...new Map([...beforeTabletRows, ...rows].map((r) => [rowKey(r), r])).values()]
    for (const [name, epochs, removedAfter] of [['old', [0], before], ['tablet', [0, 1], beforeTablet]] as const) {
      const held = await everyKeyOf(h(name), relay.db, vaultHex)
      expect(held.epochs, name).toEqual(epochs)
      const opened = openEach(seenRows, held.keys)
      // The check can fail: every envelope from before the removal opens, and holds the notes written then.
      const beforeBodies = opened.filter((o) => removedAfter.has(rowKey(o.row))).map((o) => o.body)
      expect(beforeBodies.filter((b) => b === undefined).length, `${name}: envelopes from before its removal that do not open`).toBe(0)
      const text = Buffer.concat(beforeBodies.map((b) => Buffer.from(b!))).toString('latin1')
      for (const note of Object.values(BEFORE)) expect(text).toContain(note)
      // Nothing written after the removal opens.
      const readable = opened.filter((o) => !removedAfter.has(rowKey(o.row)) && o.body !== undefined).map((o) => rowKey(o.row))
      expect(readable, `${name}: envelopes written after its removal that open`).toEqual([])
    }
  }, 90_000)
})
