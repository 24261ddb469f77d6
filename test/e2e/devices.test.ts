import { join } from 'node:path'
import { Membership, newRecoveryCode } from '@mindsync/client'
import type { Status } from '@mindsync/client'
import { createJournal } from '@mindsync/practice'
import { EnvelopeKind, ZERO_HASH, decodeEnvelope, decodeOp, deriveKey, docIdOf, openEnvelope, sealEnvelope } from '@mindsync/protocol'
import type { Envelope } from '@mindsync/protocol'
import { mustConnect } from '@mindsync/relay/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { cli, deviceIdIn, httpUrlOf, ok, openDevice, pairHome, relayOps, relayRows, showJson, startRelay, tempDir, testDeviceOf, withRelayDb } from '../helpers.js'
import type { RelayProcess, RelayRow } from '../helpers.js'

const rowKey = (r: RelayRow): string => `${r.doc}:${r.serverSeq}`
const notesOf = (j: { sessions: { note: string }[]; checkins: { note: string }[] }): string[] => [...j.sessions, ...j.checkins].map((e) => e.note).sort()

/** Polls until `check` holds, or fails after `timeoutMs`. */
async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** The body of a stored envelope under one epoch key, or undefined when it does not open. */
function tryOpen(bytes: Uint8Array, epochKey: Uint8Array): Uint8Array | undefined {
  try {
    return openEnvelope(decodeEnvelope(bytes), deriveKey(epochKey, 'envelope'))
  } catch {
    return undefined
  }
}

/**
 * A journal envelope that the device of `home` seals and signs itself with its
 * own keys (outside the CLI): seq 1 of its chain, under the current epoch, one
 * session with `note`.
 */
async function sealedByDevice(home: string, note: string): Promise<{ env: Envelope; deviceId: string; vaultId: Uint8Array; docId: Uint8Array; device: ReturnType<typeof testDeviceOf> }> {
  const client = await openDevice(home)
  try {
    const m = client.membership
    const state = m.requireState()
    const docId = docIdOf(m.derivedKey(0, 'doc-id')!, 'journal')
    const doc = new Y.Doc()
    createJournal(doc, { device: client.deviceId }).logSession({ minutes: 7, technique: 'breath', note })
    const env = sealEnvelope({
      kind: EnvelopeKind.update,
      vaultId: state.vaultId,
      docId,
      epoch: state.epoch,
      deviceId: client.identity.deviceId,
      seq: 1,
      prevHash: ZERO_HASH,
      key: m.derivedKey(state.epoch, 'envelope')!,
      signer: client.identity.signer,
      plaintext: Y.encodeStateAsUpdate(doc),
    })
    return { env, deviceId: client.deviceId, vaultId: state.vaultId, docId, device: testDeviceOf(client.identity) }
  } finally {
    await client.close()
  }
}

describe('devices and keys: removal, scopes, recovery', () => {
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
    await pairHome(h('phone'), h('laptop'), relay.url, 'laptop', 'admin')
    const oldId = await pairHome(h('phone'), h('old'), relay.url, 'old-phone', 'write')
    const tabletId = await pairHome(h('phone'), h('tablet'), relay.url, 'tablet', 'write')

    const BEFORE = { phone: 'd1-before-phone-41c2', laptop: 'd1-before-laptop-9e07', old: 'd1-before-old-5b3a', tablet: 'd1-before-tablet-c8d1' }
    for (const [name, note] of Object.entries(BEFORE)) {
      await ok(h(name), ['log', 'session', '--minutes', '10', '--note', note])
      await ok(h(name), ['sync'])
    }
    for (const name of Object.keys(BEFORE)) await ok(h(name), ['sync'])
    const beforeRows = relayRows(relay.db)
    expect(beforeRows.length).toBe(4)
    const before = new Set(beforeRows.map(rowKey))

    // The old phone is online (a library client, as an app holds it) when another device removes it.
    const live = await openDevice(h('old'), relay.url)
    const statuses: { status: Status; code?: string }[] = []
    live.on('status', (e) => statuses.push(e.error ? { status: e.status, code: e.error.code } : { status: e.status }))
    live.connect()
    await waitUntil(() => live.status === 'online', 10_000, 'the old phone to be online')
    const onlineAt = statuses.length
    const removed = await ok(h('phone'), ['devices', 'remove', oldId])
    expect(removed.stdout).toContain(`removed device ${oldId}`)
    await waitUntil(() => live.status === 'revoked', 3_000, `the old phone to be revoked (statuses: ${JSON.stringify(statuses)})`)
    // Revoked on the live connection: no reconnection attempt, no other status in between.
    expect(statuses.slice(onlineAt)).toEqual([{ status: 'revoked', code: 'E_REVOKED' }])
    await new Promise((r) => setTimeout(r, 300))
    expect(statuses.slice(onlineAt)).toEqual([{ status: 'revoked', code: 'E_REVOKED' }])
    await live.close()

    // The tablet is offline when the laptop removes it: it learns nothing before trying to sync.
    await ok(h('laptop'), ['devices', 'remove', tabletId])

    const AFTER = { phone: 'd1-after-phone-77aa', laptop: 'd1-after-laptop-0f19' }
    for (const [name, note] of Object.entries(AFTER)) {
      await ok(h(name), ['sync'])
      await ok(h(name), ['log', 'mood', '--mood', '4', '--note', note])
      await ok(h(name), ['sync'])
    }
    await ok(h('phone'), ['sync'])
    const phoneShow = await showJson(h('phone'))
    expect(notesOf(phoneShow.journal)).toEqual([...Object.values(BEFORE), ...Object.values(AFTER)].sort())
    const devicesJson = JSON.parse((await ok(h('phone'), ['devices', '--json'])).stdout) as { id: string }[]
    expect(devicesJson.map((d) => d.id)).not.toContain(oldId)
    expect(devicesJson.map((d) => d.id)).not.toContain(tabletId)

    // Both removed devices are refused with a clear reason, whether they knew of their removal or not.
    for (const name of ['old', 'tablet']) {
      const r = await cli(h(name), ['sync'])
      expect(r.code, `${name}: ${r.stdout}${r.stderr}`).not.toBe(0)
      expect(r.stderr).toMatch(/removed/)
      expect(r.stderr).toContain('E_REVOKED')
      const logged = await cli(h(name), ['log', 'session', '--minutes', '3', '--note', `d1-${name}-tries-again`])
      if (logged.code === 0) {
        const again = await cli(h(name), ['sync'])
        expect(again.code).not.toBe(0)
      }
    }

    // Every key each removed device ever held: what its store holds and what the relay's whole op log gives it.
    const rows = relayRows(relay.db)
    const afterRows = rows.filter((r) => !before.has(rowKey(r)))
    expect(afterRows.length).toBeGreaterThanOrEqual(2)
    const ops = relayOps(relay.db, vaultHex).map((r) => decodeOp(new Uint8Array(r.bytes)))
    expect(ops.length).toBe(6)
    for (const name of ['old', 'tablet']) {
      const device = await openDevice(h(name))
      const keys: Uint8Array[] = [...device.membership.keys.values()]
      const replay = new Membership(device.identity)
      for (const op of ops) replay.apply(op)
      keys.push(...replay.keys.values())
      const epochs = new Set([...device.membership.keys.keys(), ...replay.keys.keys()])
      await device.close()
      expect([...epochs].sort(), name).toEqual(name === 'old' ? [0] : [0, 1])

      const opened = rows.map((r) => ({ before: before.has(rowKey(r)), body: keys.map((k) => tryOpen(r.bytes, k)).find((b) => b !== undefined) }))
      // The check can fail: everything from before the removal opens, and holds the notes written then.
      const beforeBodies = opened.filter((o) => o.before).map((o) => o.body)
      expect(beforeBodies.every((b) => b !== undefined), `${name} opens the envelopes from before its removal`).toBe(true)
      const text = Buffer.concat(beforeBodies.map((b) => Buffer.from(b!))).toString('latin1')
      for (const note of Object.values(BEFORE)) expect(text).toContain(note)
      // Nothing written after the removal opens.
      expect(opened.filter((o) => !o.before && o.body !== undefined).length, `${name} opens envelopes written after its removal`).toBe(0)
    }
    // The relay stored nothing new from the removed devices.
    expect(afterRows.map((r) => r.deviceId)).not.toContain(oldId)
    expect(afterRows.map((r) => r.deviceId)).not.toContain(tabletId)
  })

  /*
   * Known gap, kept as a failing test: a device that logs while it has not yet
   * synced a removal seals under the epoch it knows. The relay accepts any
   * epoch up to the vault's and the other devices accept it too, so an entry
   * written after the removal stays readable with keys the removed device
   * held. Closing it needs the writer to reseal unacknowledged outbox entries
   * under the newest epoch once it learns of a removal (before pushing them),
   * or devices/relay refusing old-epoch envelopes written after the removal.
   */
  it.fails('[D1b] an entry logged after a removal by a device that had not synced the removal yet is unreadable to the removed device', async () => {
    const h = (n: string): string => home(`d1b-${n}`)
    const init = await ok(h('phone'), ['init', '--relay', relay.url, '--name', 'phone'])
    await ok(h('phone'), ['sync'])
    await pairHome(h('phone'), h('laptop'), relay.url, 'laptop', 'admin')
    const oldId = await pairHome(h('phone'), h('old'), relay.url, 'old', 'write')
    await ok(h('laptop'), ['sync'])
    await ok(h('phone'), ['devices', 'remove', oldId])
    // The laptop has not synced since: it logs offline, then syncs.
    const note = 'd1b-stale-epoch-laptop-3e9f'
    await ok(h('laptop'), ['log', 'session', '--minutes', '5', '--note', note])
    await ok(h('laptop'), ['sync'])
    const ops = relayOps(relay.db, init.last).map((r) => decodeOp(new Uint8Array(r.bytes)))
    const device = await openDevice(h('old'))
    const replay = new Membership(device.identity)
    for (const op of ops) replay.apply(op)
    const keys = [...device.membership.keys.values(), ...replay.keys.values()]
    await device.close()
    const readable = relayRows(relay.db)
      .map((r) => keys.map((k) => tryOpen(r.bytes, k)).find((b) => b !== undefined))
      .filter((b) => b !== undefined && Buffer.from(b).toString('latin1').includes(note))
    expect(readable).toEqual([])
  })

  it('[D2] a read-scoped device cannot write: the CLI refuses, the relay refuses its envelope, the other devices ignore it when a relay plants it', async () => {
    const h = (n: string): string => home(`d2-${n}`)
    const init = await ok(h('phone'), ['init', '--relay', relay.url, '--name', 'phone'])
    await ok(h('phone'), ['sync'])
    const watchId = await pairHome(h('phone'), h('watch'), relay.url, 'watch', 'read')
    await pairHome(h('phone'), h('laptop'), relay.url, 'laptop', 'write')
    await ok(h('phone'), ['log', 'session', '--minutes', '15', '--note', 'd2-phone-note'])
    for (const n of ['phone', 'watch', 'laptop']) await ok(h(n), ['sync'])
    const watchDevices = JSON.parse((await ok(h('watch'), ['devices', '--json'])).stdout) as { id: string; scopes: string[]; self: boolean }[]
    expect(watchDevices.find((d) => d.self)).toMatchObject({ id: watchId, scopes: ['read'] })

    // The CLI refuses to log on a viewer, and nothing is sealed locally.
    const refused = await cli(h('watch'), ['log', 'session', '--minutes', '5', '--note', 'd2-watch-cli-note'])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('E_SCOPE')
    expect(notesOf((await showJson(h('watch'))).journal)).toEqual(['d2-phone-note'])

    // An envelope the watch seals and signs anyway, pushed over a raw connection.
    const WATCH_NOTE = 'd2-watch-forged-note-6d2e'
    const forged = await sealedByDevice(h('watch'), WATCH_NOTE)
    expect(forged.deviceId).toBe(watchId)
    const http = httpUrlOf(relay.url)
    const conn = await mustConnect(http, forged.device, forged.vaultId)
    conn.send({ type: 'push', envelope: forged.env.bytes })
    const reject = await conn.waitFor('reject')
    expect(reject.code).toBe('E_SCOPE')
    expect(reject.seq).toBe(1)
    expect((await conn.closed).code).toBe(4403)
    expect(relayRows(relay.db).map((r) => r.deviceId)).not.toContain(watchId)

    // The check can fail: the same construction from a write-scoped device is stored.
    const LAPTOP_NOTE = 'd2-laptop-raw-note-a41f'
    const control = await sealedByDevice(h('laptop'), LAPTOP_NOTE)
    const ctl = await mustConnect(http, control.device, control.vaultId)
    ctl.send({ type: 'push', envelope: control.env.bytes })
    expect((await ctl.waitFor('ack')).seq).toBe(1)
    ctl.close()

    // A malicious relay plants the watch's envelope in its database anyway.
    withRelayDb(relay.db, (db) => {
      db.prepare('BEGIN IMMEDIATE').run()
      const doc = db.prepare('SELECT id, head FROM docs WHERE vault_id = ? AND doc_id = ?').get(Buffer.from(forged.vaultId), Buffer.from(forged.docId)) as { id: number; head: number }
      db.prepare('UPDATE docs SET head = ? WHERE id = ?').run(doc.head + 1, doc.id)
      db.prepare('INSERT INTO envelopes (doc, server_seq, device_id, seq, kind, bytes) VALUES (?, ?, ?, ?, ?, ?)').run(
        doc.id,
        doc.head + 1,
        Buffer.from(watchId, 'hex'),
        1,
        EnvelopeKind.update,
        Buffer.from(forged.env.bytes),
      )
      db.prepare('COMMIT').run()
    })
    expect(relayRows(relay.db).map((r) => r.deviceId)).toContain(watchId)

    const shown: string[] = []
    for (const n of ['phone', 'laptop']) {
      const r = await cli(h(n), ['sync'])
      expect(r.code, `${n}: ${r.stdout}${r.stderr}`).toBe(3)
      expect(r.stderr).toMatch(/rejected from the relay: E_SCOPE/)
      const s = await showJson(h(n))
      expect(notesOf(s.journal)).toEqual(['d2-phone-note', LAPTOP_NOTE].sort())
      expect(s.text).not.toContain(WATCH_NOTE)
      shown.push(s.text)
    }
    expect(shown[1]).toBe(shown[0])
    // Syncing again does not bring it back.
    await cli(h('phone'), ['sync'])
    expect((await showJson(h('phone'))).text).toBe(shown[0])
    expect(init.last).toMatch(/^[0-9a-f]{32}$/)
  })

  it('[D3] recovery: a fresh home gets the whole journal back and can add devices; an old or wrong code is refused', async () => {
    const h = (n: string): string => home(`d3-${n}`)
    await ok(h('phone'), ['init', '--relay', relay.url, '--name', 'phone'])
    await ok(h('phone'), ['sync'])
    await pairHome(h('phone'), h('laptop'), relay.url, 'laptop', 'admin')
    await ok(h('phone'), ['log', 'session', '--minutes', '20', '--technique', 'breath', '--note', 'd3-phone-one'])
    await ok(h('laptop'), ['log', 'mood', '--mood', '3', '--stress', '2', '--note', 'd3-laptop-one'])
    await ok(h('phone'), ['log', 'session', '--minutes', '8', '--note', 'd3-phone-two'])
    for (const n of ['phone', 'laptop', 'phone']) await ok(h(n), ['sync'])
    const original = await showJson(h('phone'))
    expect(notesOf(original.journal)).toEqual(['d3-laptop-one', 'd3-phone-one', 'd3-phone-two'])

    const first = await ok(h('phone'), ['recovery', 'create'])
    const oldCode = first.last
    expect(oldCode).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{1,4})+$/)
    const second = await ok(h('laptop'), ['recovery', 'create'])
    const code = second.last
    expect(code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{1,4})+$/)
    expect(code).not.toBe(oldCode)

    // A mistyped code, a well-formed code nobody created, and the replaced code: each refused with a reason.
    const i = code.search(/[0-9A-Z]/)
    const typo = code.slice(0, i) + (code[i] === 'A' ? 'B' : 'A') + code.slice(i + 1)
    const wrong = await cli(h('typo'), ['recovery', 'use', typo, '--relay', relay.url])
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toMatch(/recovery code checksum does not match|no vault on this relay knows that recovery code/)
    const garbage = await cli(h('garbage'), ['recovery', 'use', 'not-a-code', '--relay', relay.url])
    expect(garbage.code).not.toBe(0)
    expect(garbage.stderr).toMatch(/recovery code/)
    const unknown = await cli(h('unknown'), ['recovery', 'use', newRecoveryCode(), '--relay', relay.url])
    expect(unknown.code).not.toBe(0)
    expect(unknown.stderr).toMatch(/no vault on this relay knows that recovery code/)
    const replaced = await cli(h('replaced'), ['recovery', 'use', oldCode, '--relay', relay.url])
    expect(replaced.code, replaced.stdout + replaced.stderr).not.toBe(0)
    expect(replaced.stderr).toMatch(/E_REVOKED|E_NOT_MEMBER/)
    for (const n of ['typo', 'garbage', 'unknown', 'replaced']) {
      const s = await cli(h(n), ['status'])
      expect(s.stdout).not.toMatch(/member {2}yes/)
    }

    // The current code brings a brand-new home back with the whole journal.
    const used = await ok(h('new'), ['recovery', 'use', code, '--relay', relay.url, '--name', 'new-phone'])
    const newId = deviceIdIn(used.stdout)
    await ok(h('new'), ['sync'])
    expect((await showJson(h('new'))).text).toBe(original.text)
    const devices = JSON.parse((await ok(h('new'), ['devices', '--json'])).stdout) as { id: string; scopes: string[]; self: boolean }[]
    expect(devices.find((d) => d.self)).toMatchObject({ id: newId, scopes: ['read', 'write', 'admin'] })

    // And adds a further device, which syncs and sees the journal, and whose entries reach the others.
    await pairHome(h('new'), h('tablet'), relay.url, 'tablet', 'write')
    expect((await showJson(h('tablet'))).text).toBe(original.text)
    await ok(h('tablet'), ['log', 'session', '--minutes', '4', '--note', 'd3-tablet-one'])
    await ok(h('tablet'), ['sync'])
    for (const n of ['new', 'phone']) await ok(h(n), ['sync'])
    const after = await showJson(h('phone'))
    expect(notesOf(after.journal)).toEqual(['d3-laptop-one', 'd3-phone-one', 'd3-phone-two', 'd3-tablet-one'])
    expect((await showJson(h('new'))).text).toBe(after.text)
  })
})
