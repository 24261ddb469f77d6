import { join } from 'node:path'
import { decodeEnvelope } from '@mindsync/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli, deviceIdIn, ok, openSqlite, pairHome, relayRows, showJson, startRelay, tempDir } from '../helpers.js'
import type { JournalJson, RelayProcess, RelayRow } from '../helpers.js'

/** The codes a device may give a received envelope whose stored bytes were altered. */
const INTEGRITY_CODES = ['E_FORGED', 'E_MISROUTED', 'E_DECRYPT']

/** Which byte of a stored envelope each round flips (XOR 0x01). */
const REGIONS: { region: string; offset(bytes: Uint8Array): number }[] = [
  // The last byte of the clear header (inside prevHash): authenticated by the signature and the AEAD.
  { region: 'header', offset: (b) => decodeEnvelope(b).headerBytes.length - 1 },
  // A byte in the middle of the sealed body (nonce and ciphertext).
  { region: 'body', offset: (b) => decodeEnvelope(b).headerBytes.length + Math.floor((b.length - decodeEnvelope(b).headerBytes.length - 64) / 2) },
]

const sortById = (entries: { id: string }[]) => [...entries].sort((a, b) => a.id.localeCompare(b.id))

describe('a relay that alters stored bytes', () => {
  const tmp = tempDir()
  let relay: RelayProcess
  const home = (name: string): string => join(tmp.dir, name)
  let phoneId = ''
  let target: RelayRow
  let targetIndex = 0
  let phoneBefore: { text: string; journal: JournalJson }

  /** Replaces the bytes of one stored envelope in the live relay's SQLite file and reads them back. */
  function overwrite(row: RelayRow, bytes: Buffer): void {
    const db = openSqlite(relay.db, { fileMustExist: true })
    try {
      db.pragma('busy_timeout = 5000')
      const changed = db.prepare('UPDATE envelopes SET bytes = ? WHERE doc = ? AND server_seq = ?').run(bytes, row.doc, row.serverSeq).changes
      expect(changed).toBe(1)
    } finally {
      db.close()
    }
    const now = relayRows(relay.db).find((r) => r.doc === row.doc && r.serverSeq === row.serverSeq)
    expect(now?.bytes.equals(bytes)).toBe(true)
  }

  beforeAll(async () => {
    relay = await startRelay(join(tmp.dir, 'relay', 'relay.db'))
    const init = await ok(home('phone'), ['init', '--relay', relay.url, '--name', 'phone'])
    phoneId = deviceIdIn(init.stdout)
    await ok(home('phone'), ['sync'])
    await pairHome(home('phone'), home('laptop'), relay.url, 'laptop', 'admin')

    // Entries on both devices, a sync after each (the two devices run side by side): the phone ends with three envelopes, the laptop with two.
    const log = async (device: string, args: string[]) => {
      await ok(home(device), ['log', ...args])
      await ok(home(device), ['sync'])
    }
    await Promise.all([
      log('phone', ['session', '--minutes', '10', '--technique', 'breath', '--note', 'phone-one']),
      log('laptop', ['mood', '--mood', '3', '--stress', '2', '--note', 'laptop-one']),
    ])
    await Promise.all([
      log('phone', ['session', '--minutes', '20', '--technique', 'body-scan', '--note', 'phone-two']),
      log('laptop', ['mood', '--mood', '4', '--note', 'laptop-two']),
    ])
    await log('phone', ['session', '--minutes', '30', '--technique', 'walking', '--note', 'phone-three'])
    await ok(home('laptop'), ['sync'])

    const rows = relayRows(relay.db)
    // Updates only (kind 1): each sync also stores a checkpoint envelope of what the device saw.
    const phoneRows = rows.filter((r) => r.deviceId === phoneId && r.kind === 1).sort((a, b) => a.seq - b.seq)
    expect(phoneRows.length).toBe(3)
    expect(rows.filter((r) => r.deviceId !== phoneId && r.kind === 1).length).toBeGreaterThanOrEqual(2)
    targetIndex = 1
    target = phoneRows[targetIndex] as RelayRow
    expect(target.seq).toBeGreaterThan(phoneRows[0]!.seq)

    phoneBefore = await showJson(home('phone'))
    expect(phoneBefore.journal.sessions.map((s) => s.note).sort()).toEqual(['phone-one', 'phone-three', 'phone-two'])
    expect(phoneBefore.journal.checkins.map((c) => c.note).sort()).toEqual(['laptop-one', 'laptop-two'])
  })
  afterAll(async () => {
    await relay?.stop()
    tmp.cleanup()
  })

  it('[E4] a byte flipped in a stored envelope is rejected by the receiving device with a reason, and the other entries still arrive', async () => {
    const original = Buffer.from(target.bytes)
    // The entry the tampered envelope carries: the phone's envelopes hold its sessions in the order logged.
    const lost = phoneBefore.journal.sessions.find((s) => s.note === ['phone-one', 'phone-two', 'phone-three'][targetIndex])
    expect(lost).toBeDefined()
    const expected = {
      sessions: sortById(phoneBefore.journal.sessions.filter((s) => s.id !== lost!.id)),
      checkins: sortById(phoneBefore.journal.checkins),
    }

    // One fresh device per round, plus a control that joins once the bytes are back; all paired before any tampering.
    const fresh = (name: string): string => home(`fresh-${name}`)
    const names = [...REGIONS.map((r) => r.region), 'control']
    const offers = await Promise.all(names.map((n) => ok(fresh(n), ['pair', 'offer', '--relay', relay.url, '--name', n])))
    for (const offer of offers) await ok(home('phone'), ['pair', 'accept', offer.last])

    for (const { region, offset } of REGIONS) {
      const tampered = Buffer.from(original)
      const at = offset(original)
      tampered[at] = (tampered[at] as number) ^ 0x01
      overwrite(target, tampered)
      try {
        const synced = await cli(fresh(region), ['sync'])
        const reasons = [...synced.stderr.matchAll(/rejected from the relay: (E_[A-Z_]+): (.+)/g)]
        expect(synced.code, `${region}: ${synced.stderr}`).toBe(3)
        expect(reasons, `${region}: ${synced.stderr}`).toHaveLength(1)
        expect(INTEGRITY_CODES, `${region}: ${synced.stderr}`).toContain(reasons[0]![1])
        expect(synced.stderr).toMatch(/1 envelope\(s\) were rejected/)
        expect(synced.stdout).toMatch(/joined vault/)
      } finally {
        overwrite(target, original)
      }
    }
    const shown = await Promise.all(REGIONS.map(({ region }) => showJson(fresh(region))))
    for (const [i, { journal }] of shown.entries()) {
      expect({ sessions: sortById(journal.sessions), checkins: sortById(journal.checkins) }, REGIONS[i]!.region).toEqual(expected)
    }

    // The members that held the envelope before are unaffected, and so is a device that joins once the bytes are back.
    const others = [home('phone'), home('laptop'), fresh('control')]
    for (const r of await Promise.all(others.map((h) => cli(h, ['sync'])))) {
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toBe('')
    }
    for (const { text } of await Promise.all(others.map((h) => showJson(h)))) expect(text).toBe(phoneBefore.text)
  })

  // The phone's next envelope names this one's hash (over header and body, not the signature) and is signed:
  // a damaged signature on an envelope whose content its author vouched for later does not lose the entry,
  // while a damaged signature on the last one of a run is refused (packages/client/src/vouch.test.ts).
  it('[E4] a byte flipped in the signature of an envelope its author vouched for later: the content still arrives, unchanged', async () => {
    const original = Buffer.from(target.bytes)
    const tampered = Buffer.from(original)
    const at = decodeEnvelope(original).signed.length + 63 // the signature's last byte; receiver tags may follow
    tampered[at] = (tampered[at] as number) ^ 0x01
    const fresh = home('fresh-signature')
    const offer = await ok(fresh, ['pair', 'offer', '--relay', relay.url, '--name', 'signature'])
    await ok(home('phone'), ['pair', 'accept', offer.last])
    overwrite(target, tampered)
    try {
      const synced = await cli(fresh, ['sync'])
      expect(synced.code, synced.stderr).toBe(0)
      expect(synced.stderr).not.toMatch(/rejected/)
    } finally {
      overwrite(target, original)
    }
    expect((await showJson(fresh)).text).toBe(phoneBefore.text)
  })

  // The device's cursor is past the altered envelope, but the hole in the phone's chain makes it fetch
  // that seq again (fetchSeqs) on its next sync.
  it('[E4] once the relay serves the genuine bytes again, the device that rejected the altered copy repairs the gap and converges', async () => {
    const again = await cli(home('fresh-header'), ['sync'])
    expect(again.code, again.stderr).toBe(0)
    expect((await showJson(home('fresh-header'))).text).toBe(phoneBefore.text)
  })
})
