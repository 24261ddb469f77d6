import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, ok, useRelay } from '../helpers.js'
import { encodings, findPlaintext } from '../plaintext.js'

const NOTES = {
  phone: 'phone-note-breath-counting-7f3a9c',
  laptop: 'laptop-note-anxious-before-review-51be02',
  watch: 'watch-note-walking-meditation-e94d11',
}

describe('three devices, one vault, a real relay on loopback', () => {
  const { relay, home, dir } = useRelay()

  it('[E2] devices paired into one vault log offline, sync in any order, and print identical show --json', async () => {
    const init = await ok(home('phone'), ['init', '--relay', relay.url, '--name', 'phone'])
    expect(init.last).toMatch(/^[0-9a-f]{32}$/)
    await ok(home('phone'), ['sync'])
    for (const [name, scope] of [['laptop', 'admin'], ['watch', 'write']] as const) {
      const offer = await ok(home(name), ['pair', 'offer', '--relay', relay.url, '--name', name])
      expect(offer.last).toMatch(/^ms1-/)
      await ok(home('phone'), ['pair', 'accept', offer.last, '--scope', scope])
      const joined = await ok(home(name), ['sync'])
      expect(joined.stdout).toContain(`joined vault ${init.last}`)
    }

    // Offline: the relay is not needed to log.
    await ok(home('phone'), ['log', 'session', '--minutes', '20', '--technique', 'breath', '--note', NOTES.phone])
    await ok(home('laptop'), ['log', 'mood', '--mood', '2', '--stress', '4', '--note', NOTES.laptop])
    await ok(home('watch'), ['log', 'session', '--minutes', '12.5', '--technique', 'walking', '--note', NOTES.watch])
    await ok(home('laptop'), ['log', 'session', '--minutes', '5'])

    for (const name of ['watch', 'phone', 'laptop', 'watch', 'phone']) await ok(home(name), ['sync'])

    const shown = await Promise.all(['phone', 'laptop', 'watch'].map((n) => ok(home(n), ['show', '--json'])))
    expect(shown[1]!.stdout).toBe(shown[0]!.stdout)
    expect(shown[2]!.stdout).toBe(shown[0]!.stdout)
    const journal = JSON.parse(shown[0]!.stdout) as { sessions: { note: string }[]; checkins: { note: string }[] }
    expect(journal.sessions.map((s) => s.note).sort()).toEqual(['', NOTES.phone, NOTES.watch].sort())
    expect(journal.checkins.map((c) => c.note)).toEqual([NOTES.laptop])
  })

  it('[E3] the relay database files, WAL included, hold none of the notes in plain bytes, hex or base64', async () => {
    const files = ['', '-wal', '-shm'].map((s) => relay.db + s)
    expect(existsSync(relay.db)).toBe(true)
    const secrets = Object.values(NOTES)
    expect(findPlaintext(files, secrets)).toEqual([])
    // The scan itself must be able to fail: it finds the notes in a file that holds them.
    const probe = join(dir, 'probe.bin')
    const { writeFileSync } = await import('node:fs')
    writeFileSync(probe, `xx${encodings(NOTES.phone)[1]}yy${Buffer.from(`a${NOTES.laptop}`).toString('base64')}`)
    expect([...new Set(findPlaintext([probe], secrets).map((h) => h.secret))].sort()).toEqual([NOTES.laptop, NOTES.phone].sort())
  })

  it('[E6a] a bad command line gets a clear error and changes nothing', async () => {
    const r = await cli(home('phone'), ['log', 'session', '--minutes', '-5'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/minutes/)
    const r2 = await cli(home('phone'), ['log', 'mood', '--mood', '9'])
    expect(r2.stderr).toMatch(/mood/)
    const again = await ok(home('phone'), ['show', '--json'])
    expect((JSON.parse(again.stdout) as { sessions: unknown[] }).sessions).toHaveLength(3)
  })
})
