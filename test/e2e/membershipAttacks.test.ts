import { join } from 'node:path'
import { randomBytes } from '@mindsync/crypto'
import { Membership, Scope, generateIdentity } from '@mindsync/client'
import type { DeviceIdentity } from '@mindsync/client'
import { decodeOp, verifyLog } from '@mindsync/protocol'
import type { MembershipOp } from '@mindsync/protocol'
import { connectTestDevice, mustConnect } from '@mindsync/relay/testing'
import type { TestConnection } from '@mindsync/relay/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli, httpUrlOf, notesOf, ok, openDevice, pairHomes, relayOps, showJson, startOpsTableProxy, startRelay, tempDir, testDeviceOf, withRelayDb } from '../helpers.js'
import type { RelayProcess, RelayProxy } from '../helpers.js'

/** The relay's membership log of a vault, decoded. */
const logOf = (relay: RelayProcess, vaultHex: string): MembershipOp[] => relayOps(relay.db, vaultHex).map((r) => decodeOp(new Uint8Array(r.bytes)))

/** A membership built from `identity` with the whole log applied: signs ops for the next index, as that device would. */
function membershipOf(identity: DeviceIdentity, log: MembershipOp[]): Membership {
  const m = new Membership(identity)
  for (const op of log) m.apply(op)
  return m
}

/** The op bytes with one bit of the signature flipped: the fields are untouched, so it looks valid. */
function badSignature(op: MembershipOp): Uint8Array {
  const bytes = op.bytes.slice()
  bytes[bytes.length - 1]! ^= 0x01
  return bytes
}

/** Sends one appendOp and waits for its own opResult. */
async function append(conn: TestConnection, op: Uint8Array): Promise<{ index: number; code: string; message: string }> {
  const results = (): { index: number; code: string; message: string }[] => conn.received.flatMap((m) => (m.type === 'opResult' ? [m] : []))
  const before = results().length
  conn.send({ type: 'appendOp', op })
  await conn.waitFor('opResult', (m) => results().indexOf(m) >= before)
  return results()[before]!
}

describe('forged and replayed membership ops', () => {
  const tmp = tempDir()
  let relay: RelayProcess
  let proxy: RelayProxy
  const h = (name: string): string => join(tmp.dir, name)
  let vaultHex = ''
  let vaultId: Uint8Array
  const ids: Record<string, DeviceIdentity> = {}
  const stranger = generateIdentity('stranger')

  /** Forged ops for the index after the current head, each with the code every verifier must give it. */
  function forgeries(): { what: string; code: string; reason: RegExp; bytes: Uint8Array }[] {
    const log = logOf(relay, vaultHex)
    const now = Date.now()
    return [
      { what: 'a rotation by an admin with a bad signature', code: 'E_FORGED', reason: /signature does not verify/, bytes: badSignature(membershipOf(ids.phone!, log).newEpochOp(now)) },
      { what: 'a rotation signed by the removed device', code: 'E_REVOKED', reason: /author was removed/, bytes: membershipOf(ids.old!, log).newEpochOp(now).bytes },
      {
        what: 'a non-member adding itself as admin',
        code: 'E_NOT_MEMBER',
        reason: /author is not a member/,
        bytes: membershipOf(stranger, log).addDeviceOp({ signPub: stranger.signPub, dhPub: stranger.dhPub, secret: randomBytes(16), name: 'stranger' }, Scope.read | Scope.write | Scope.admin, now).bytes,
      },
      { what: 'a rotation by the read-only watch', code: 'E_SCOPE', reason: /need admin scope/, bytes: membershipOf(ids.watch!, log).newEpochOp(now).bytes },
      { what: 'an old op (the laptop added) sent again', code: 'E_REPLAY', reason: /already in the log/, bytes: log[1]!.bytes },
    ]
  }

  beforeAll(async () => {
    relay = await startRelay(join(tmp.dir, 'relay', 'relay.db'))
    // The devices reach the relay through a proxy that serves its ops table as stored (honest until a row is planted).
    proxy = await startOpsTableProxy(relay)
    const init = await ok(h('phone'), ['init', '--relay', proxy.url, '--name', 'phone'])
    vaultHex = init.last
    vaultId = Buffer.from(vaultHex, 'hex')
    await ok(h('phone'), ['sync'])
    const [, , oldId] = await pairHomes(h('phone'), proxy.url, [
      { home: h('laptop'), name: 'laptop', scope: 'admin' },
      { home: h('watch'), name: 'watch', scope: 'read' },
      { home: h('old'), name: 'old', scope: 'write' },
    ])
    await Promise.all([
      ok(h('phone'), ['log', 'session', '--minutes', '10', '--note', 'd5-phone']).then(() => ok(h('phone'), ['sync'])),
      ok(h('laptop'), ['log', 'mood', '--mood', '2', '--note', 'd5-laptop']).then(() => ok(h('laptop'), ['sync'])),
    ])
    await ok(h('laptop'), ['devices', 'remove', oldId!])
    for (const n of ['phone', 'laptop', 'watch', 'old']) {
      const device = await openDevice(h(n))
      ids[n] = device.identity
      await device.close()
    }
  }, 90_000)
  afterAll(async () => {
    await proxy?.stop()
    await relay?.stop()
    tmp.cleanup()
  })

  it('[D5a] the relay refuses each forged or replayed op with a reason, and appends none', async () => {
    const http = httpUrlOf(relay.url)
    const before = relayOps(relay.db, vaultHex).map((r) => r.bytes.toString('hex'))
    expect(before.length).toBe(5)

    // The removed device and a stranger cannot even connect.
    const removed = await connectTestDevice(http, testDeviceOf(ids.old!), vaultId)
    expect(removed).toMatchObject({ ok: false, status: 403, code: 'E_REVOKED' })
    const outsider = await connectTestDevice(http, testDeviceOf(stranger), vaultId)
    expect(outsider).toMatchObject({ ok: false, status: 403, code: 'E_NOT_MEMBER' })

    // Over a member's connection, each forged op is refused with its reason.
    const conn = await mustConnect(http, testDeviceOf(ids.phone!), vaultId)
    const forged = forgeries()
    for (const f of forged.filter((x) => x.code !== 'E_REPLAY')) {
      const r = await append(conn, f.bytes)
      expect(r.code, f.what).toBe(f.code)
      expect(r.message, f.what).toMatch(f.reason)
    }
    // Old ops sent again (the laptop's add, the genesis) take an index already taken.
    for (const op of [logOf(relay, vaultHex)[1]!, logOf(relay, vaultHex)[0]!]) {
      const r = await append(conn, op.bytes)
      expect(['E_REPLAY', 'E_CONFLICT']).toContain(r.code)
      expect(r.message).not.toBe('')
    }
    // The read-only watch, over its own connection, cannot extend the log either.
    const watchConn = await mustConnect(http, testDeviceOf(ids.watch!), vaultId)
    const byWatch = await append(watchConn, forged.find((f) => f.code === 'E_SCOPE')!.bytes)
    expect(byWatch.code).toBe('E_SCOPE')
    watchConn.close()
    expect(relayOps(relay.db, vaultHex).map((r) => r.bytes.toString('hex'))).toEqual(before)

    // The check can fail: the same rotation with its real signature is appended.
    const genuine = membershipOf(ids.phone!, logOf(relay, vaultHex)).newEpochOp(Date.now())
    expect((await append(conn, genuine.bytes)).code).toBe('')
    conn.close()
    const after = logOf(relay, vaultHex)
    expect(after.length).toBe(6)
    expect(verifyLog(after).epoch).toBe(2)
  })

  it('[D5b] every device refuses a forged or replayed op that a malicious relay serves at the head of its log, and keeps its data', async () => {
    const members = ['phone', 'laptop', 'watch']
    await Promise.all(members.map((n) => ok(h(n), ['sync'])))
    const valid = relayOps(relay.db, vaultHex).map((r) => r.bytes.toString('hex'))
    const head = valid.length
    const epoch = verifyLog(logOf(relay, vaultHex)).epoch
    const shown = await Promise.all(members.map(async (n) => (await showJson(h(n))).text))
    for (const text of shown) expect(notesOf(JSON.parse(text))).toEqual(['d5-laptop', 'd5-phone'])
    for (const n of members) {
      const device = await openDevice(h(n))
      expect(device.membership.members().length, n).toBe(3)
      expect(device.membership.state?.epoch, n).toBe(epoch)
      await device.close()
    }

    // The read-only author (E_SCOPE) is left to the relay test: four rounds of three syncs are enough here.
    for (const f of forgeries().filter((x) => x.code !== 'E_SCOPE')) {
      withRelayDb(relay.db, (db) => db.prepare('INSERT INTO ops (vault_id, idx, bytes) VALUES (?, ?, ?)').run(Buffer.from(vaultId), head, Buffer.from(f.bytes)))
      try {
        const results = await Promise.all(members.map((n) => cli(h(n), ['sync'])))
        for (const [i, r] of results.entries()) {
          const who = `${members[i]} given ${f.what}`
          expect(r.code, `${who}: ${r.stdout}${r.stderr}`).not.toBe(0)
          expect(r.stderr, who).toContain(f.code)
          expect(r.stderr, who).toMatch(/membership op refused/)
          expect(r.stderr, who).toMatch(f.reason)
        }
      } finally {
        withRelayDb(relay.db, (db) => db.prepare('DELETE FROM ops WHERE vault_id = ? AND idx = ?').run(Buffer.from(vaultId), head))
      }
      // Nothing of the forged op is kept: each device's stored log is still the valid one.
      for (const n of members) {
        const device = await openDevice(h(n))
        expect(device.membership.ops.map((op) => Buffer.from(op.bytes).toString('hex')), `${n} after ${f.what}`).toEqual(valid)
        await device.close()
      }
    }

    // Local data intact: the same journal as before the attacks (and, checked after each round, the same stored log).
    expect(await Promise.all(members.map(async (n) => (await showJson(h(n))).text))).toEqual(shown)
    // The check can fail: with the planted row gone, the same syncs succeed.
    const results = await Promise.all(members.map((n) => cli(h(n), ['sync'])))
    for (const r of results) expect(r.code, r.stderr).toBe(0)
  }, 90_000)
})
