import { createJournal } from '@mindsync/practice'
import { EnvelopeKind, ZERO_HASH, decodeEnvelope, docIdOf, envelopeHash, sealEnvelope } from '@mindsync/protocol'
import type { Envelope } from '@mindsync/protocol'
import { mustConnect } from '@mindsync/relay/testing'
import type { TestDevice } from '@mindsync/relay/testing'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { cli, httpUrlOf, notesOf, ok, openDevice, pairHomes, relayRows, showJson, useRelay, testDeviceOf, withRelayDb } from '../helpers.js'

/**
 * A journal envelope that the device of `home` seals and signs with its own
 * keys, outside the CLI: next in its chain as the relay stores it, under the
 * current epoch, holding one session with `note`.
 */
async function sealedByDevice(home: string, relayDb: string, note: string): Promise<{ env: Envelope; deviceId: string; vaultId: Uint8Array; docId: Uint8Array; device: TestDevice }> {
  const client = await openDevice(home)
  try {
    const m = client.membership
    const state = m.requireState()
    const docId = docIdOf(m.derivedKey(0, 'doc-id')!, 'journal')
    const doc = new Y.Doc()
    createJournal(doc, { device: client.deviceId }).logSession({ minutes: 7, technique: 'breath', note })
    const mine = relayRows(relayDb)
      .filter((r) => r.deviceId === client.deviceId && Buffer.from(decodeEnvelope(r.bytes).header.docId).equals(Buffer.from(docId)))
      .sort((a, b) => a.seq - b.seq)
    const last = mine[mine.length - 1]
    const env = sealEnvelope({
      kind: EnvelopeKind.update,
      vaultId: state.vaultId,
      docId,
      epoch: state.epoch,
      deviceId: client.identity.deviceId,
      seq: (last?.seq ?? 0) + 1,
      prevHash: last ? envelopeHash(decodeEnvelope(last.bytes)) : ZERO_HASH,
      key: m.derivedKey(state.epoch, 'envelope')!,
      signer: client.identity.signer,
      plaintext: Y.encodeStateAsUpdate(doc),
    })
    return { env, deviceId: client.deviceId, vaultId: state.vaultId, docId, device: testDeviceOf(client.identity) }
  } finally {
    await client.close()
  }
}

/** What a malicious relay can do: store an envelope in its database as if a device had pushed it. */
function plantEnvelope(dbPath: string, vaultId: Uint8Array, docId: Uint8Array, env: Envelope): void {
  withRelayDb(dbPath, (db) => {
    db.prepare('BEGIN IMMEDIATE').run()
    const doc = db.prepare('SELECT id, head FROM docs WHERE vault_id = ? AND doc_id = ?').get(Buffer.from(vaultId), Buffer.from(docId)) as { id: number; head: number }
    db.prepare('UPDATE docs SET head = ? WHERE id = ?').run(doc.head + 1, doc.id)
    db.prepare('INSERT INTO envelopes (doc, server_seq, device_id, seq, kind, bytes) VALUES (?, ?, ?, ?, ?, ?)').run(
      doc.id,
      doc.head + 1,
      Buffer.from(env.header.deviceId),
      env.header.seq,
      env.header.kind,
      Buffer.from(env.bytes),
    )
    db.prepare('COMMIT').run()
  })
}

describe('a read-scoped device', () => {
  const { relay, home: h } = useRelay()

  it('[D2] cannot write: the CLI refuses, the relay refuses its envelope, the other devices ignore it when a relay plants it', async () => {
    await ok(h('phone'), ['init', '--relay', relay.url, '--name', 'phone'])
    await ok(h('phone'), ['sync'])
    // The spare is a write-scoped device used once, for the control push below (outside its store, so it never syncs again).
    const [watchId] = await pairHomes(h('phone'), relay.url, [
      { home: h('watch'), name: 'watch', scope: 'read' },
      { home: h('laptop'), name: 'laptop', scope: 'write' },
      { home: h('spare'), name: 'spare', scope: 'write' },
    ])
    await ok(h('phone'), ['log', 'session', '--minutes', '15', '--note', 'd2-phone-note'])
    await ok(h('phone'), ['sync'])
    await Promise.all(['watch', 'laptop'].map((n) => ok(h(n), ['sync'])))
    const watchDevices = JSON.parse((await ok(h('watch'), ['devices', '--json'])).stdout) as { id: string; scopes: string[]; self: boolean }[]
    expect(watchDevices.find((d) => d.self)).toMatchObject({ id: watchId, scopes: ['read'] })

    // The CLI refuses to log on a viewer, and nothing is sealed locally.
    const refused = await cli(h('watch'), ['log', 'session', '--minutes', '5', '--note', 'd2-watch-cli-note'])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('E_SCOPE')
    expect(notesOf((await showJson(h('watch'))).journal)).toEqual(['d2-phone-note'])

    // An envelope the watch seals and signs anyway, pushed over a raw connection: refused with the reason, connection closed 4403.
    const WATCH_NOTE = 'd2-watch-forged-note-6d2e'
    const forged = await sealedByDevice(h('watch'), relay.db, WATCH_NOTE)
    expect(forged.deviceId).toBe(watchId)
    const http = httpUrlOf(relay.url)
    const conn = await mustConnect(http, forged.device, forged.vaultId)
    conn.send({ type: 'push', envelope: forged.env.bytes })
    const reject = await conn.waitFor('reject')
    expect(reject).toMatchObject({ code: 'E_SCOPE', seq: forged.env.header.seq })
    expect(reject.message).toMatch(/write/)
    expect((await conn.closed).code).toBe(4403)
    expect(relayRows(relay.db).map((r) => r.deviceId)).not.toContain(watchId)

    // The check can fail: the same construction from a write-scoped device is stored.
    const SPARE_NOTE = 'd2-spare-raw-note-a41f'
    const control = await sealedByDevice(h('spare'), relay.db, SPARE_NOTE)
    const ctl = await mustConnect(http, control.device, control.vaultId)
    ctl.send({ type: 'push', envelope: control.env.bytes })
    expect((await ctl.waitFor('ack')).seq).toBe(control.env.header.seq)
    ctl.close()

    // A malicious relay plants the watch's envelope in its database anyway; the other devices refuse it.
    plantEnvelope(relay.db, forged.vaultId, forged.docId, forged.env)
    expect(relayRows(relay.db).map((r) => r.deviceId)).toContain(watchId)
    const shown = await Promise.all(
      ['phone', 'laptop'].map(async (n) => {
        const r = await cli(h(n), ['sync'])
        expect(r.code, `${n}: ${r.stdout}${r.stderr}`).toBe(3)
        expect(r.stderr).toMatch(new RegExp(`rejected from the relay: E_SCOPE: author ${watchId} may only read`))
        const s = await showJson(h(n))
        expect(notesOf(s.journal)).toEqual(['d2-phone-note', SPARE_NOTE].sort())
        expect(s.text).not.toContain(WATCH_NOTE)
        return s.text
      }),
    )
    expect(shown[1]).toBe(shown[0])
    // A later sync does not let it in either.
    await cli(h('phone'), ['sync'])
    expect((await showJson(h('phone'))).text).toBe(shown[0])
  }, 90_000)
})
