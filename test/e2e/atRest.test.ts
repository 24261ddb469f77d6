import { cpSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli, startRelay, tempDir } from '../helpers.js'
import type { RelayProcess } from '../helpers.js'
import { findPlaintext } from '../plaintext.js'

const PASS = { MINDSYNC_PASSPHRASE: 'correct horse battery staple 42' }
const NOTES = ['at-rest-note-sat-by-the-river-4d2e', 'at-rest-note-restless-mind-91ac']

describe("a device's home folder at rest", () => {
  const tmp = tempDir()
  const phone = join(tmp.dir, 'phone')
  const copy = join(tmp.dir, 'stolen-copy')
  let relay: RelayProcess

  beforeAll(async () => {
    relay = await startRelay(join(tmp.dir, 'relay.db'))
    const run = async (args: string[]): Promise<void> => {
      const r = await cli(phone, args, PASS)
      if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`)
    }
    await run(['init', '--relay', relay.url, '--name', 'phone'])
    await run(['log', 'session', '--minutes', '15', '--note', NOTES[0]!])
    await run(['log', 'mood', '--mood', '2', '--note', NOTES[1]!])
    await run(['sync'])
    cpSync(phone, copy, { recursive: true })
  })
  afterAll(async () => {
    await relay?.stop()
    tmp.cleanup()
  })

  it('[AR1] copied without the passphrase, it reveals no practice data', async () => {
    const files = readdirSync(copy).map((f) => join(copy, f))
    expect(files.some((f) => f.endsWith('device.db'))).toBe(true)
    expect(findPlaintext(files, NOTES)).toEqual([])
    const locked = await cli(copy, ['show', '--json'])
    expect(locked.code).toBe(1)
    expect(locked.stderr).toMatch(/E_LOCKED/)
    expect(locked.stdout).not.toContain(NOTES[0])
    const wrong = await cli(copy, ['show', '--json'], { MINDSYNC_PASSPHRASE: 'not the passphrase' })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/wrong passphrase/)
  })

  it('[AR2] with the passphrase the same copy opens (so the check above can fail)', async () => {
    const r = await cli(copy, ['show', '--json'], PASS)
    expect(r.code, r.stderr).toBe(0)
    for (const n of NOTES) expect(r.stdout).toContain(n)
  })
})
