import { copyFileSync, existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cli, freePort, ok, startRelay, tempDir } from '../helpers.js'
import type { RelayProcess } from '../helpers.js'

describe('a relay rolled back to an older copy of its database', () => {
  const tmp = tempDir()
  const home = (n: string): string => join(tmp.dir, n)
  const db = join(tmp.dir, 'relay', 'relay.db')
  let relay: RelayProcess | undefined
  afterAll(async () => {
    await relay?.stop()
    tmp.cleanup()
  })

  it('[R1] mindsync sync reports the rollback, exits non-zero, and keeps local data intact', async () => {
    const port = await freePort()
    relay = await startRelay(db, port)
    await ok(home('phone'), ['init', '--relay', relay.url, '--name', 'phone'])
    await ok(home('phone'), ['log', 'session', '--minutes', '10', '--note', 'before-copy'])
    await ok(home('phone'), ['sync'])

    // The operator (or an attacker) keeps a copy of the database as it is now…
    await relay.stop()
    const old = join(tmp.dir, 'old')
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(db + suffix)) copyFileSync(db + suffix, old + suffix)
    relay = await startRelay(db, port)
    await ok(home('phone'), ['log', 'session', '--minutes', '20', '--note', 'after-copy'])
    await ok(home('phone'), ['sync'])
    const before = (await ok(home('phone'), ['show', '--json'])).stdout

    // …and later serves the old copy.
    await relay.stop()
    for (const suffix of ['', '-wal', '-shm']) {
      rmSync(db + suffix, { force: true })
      if (existsSync(old + suffix)) copyFileSync(old + suffix, db + suffix)
    }
    relay = await startRelay(db, port)

    const r = await cli(home('phone'), ['sync'])
    expect(r.code, r.stdout + r.stderr).not.toBe(0)
    expect(r.stderr).toMatch(/ALERT rollback/)
    expect((await ok(home('phone'), ['show', '--json'])).stdout).toBe(before)
    const status = await cli(home('phone'), ['status'])
    expect(status.stdout).toMatch(/rollback/)
    expect(status.code).toBe(3)
  }, 60_000)
})
