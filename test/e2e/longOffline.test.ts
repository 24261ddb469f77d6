import { join } from 'node:path'
import { createJournal } from '@mindsync/practice'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { cli, ok, openDevice, showJson, startRelay, tempDir } from '../helpers.js'
import type { RelayProcess } from '../helpers.js'

const OFFLINE_WRITES = 3000

describe('a device back from a long time offline', () => {
  const tmp = tempDir()
  const watch = join(tmp.dir, 'watch')
  let relay: RelayProcess

  beforeAll(async () => {
    relay = await startRelay(join(tmp.dir, 'relay.db'))
    await ok(watch, ['init', '--relay', relay.url, '--name', 'watch'])
    await ok(watch, ['sync'])
    // Thousands of writes while offline, each its own envelope in the outbox.
    const client = await openDevice(watch)
    const doc = new Y.Doc()
    await client.bind('journal', doc)
    const journal = createJournal(doc, { device: client.deviceId })
    for (let i = 0; i < OFFLINE_WRITES; i++) {
      journal.logSession({ minutes: 1, note: `offline ${i}` })
      await client.flush()
    }
    await client.close()
  }, 120_000)
  afterAll(async () => {
    await relay?.stop()
    tmp.cleanup()
  })

  it(`[L1] \`mindsync sync\` pushes ${OFFLINE_WRITES.toLocaleString('en')} offline envelopes in order, showing a progress bar, then the relay has them all`, async () => {
    const r = await cli(watch, ['sync', '--timeout', '120'])
    expect(r.code, r.stderr).toBe(0)
    const bars = r.stderr.split('\n').filter((l) => l.startsWith('pushing ['))
    // One line per tenth away from a terminal, ending full.
    expect(bars.length).toBeGreaterThanOrEqual(10)
    expect(bars.at(-1)).toBe(`pushing [${'#'.repeat(30)}] 3,000/3,000 journal`)
    expect(r.stdout).toContain(`${OFFLINE_WRITES} sessions`)

    // Another device sees every entry.
    const laptop = join(tmp.dir, 'laptop')
    const offer = await ok(laptop, ['pair', 'offer', '--relay', relay.url, '--name', 'laptop'])
    await ok(watch, ['pair', 'accept', offer.last])
    await ok(laptop, ['sync'])
    const { journal } = await showJson(laptop)
    expect(journal.sessions.length).toBe(OFFLINE_WRITES)
  }, 240_000)

  it('[L2] a short sync prints no progress bar', async () => {
    await ok(watch, ['log', 'session', '--minutes', '5'])
    const r = await cli(watch, ['sync'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).not.toContain('pushing [')
  })
})
