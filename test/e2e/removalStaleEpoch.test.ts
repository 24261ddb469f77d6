import { join } from 'node:path'
import { decodeEnvelope } from '@mindsync/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { everyKeyOf, ok, openEach, pairHomes, relayRows, startRelay, tempDir } from '../helpers.js'
import type { RelayProcess } from '../helpers.js'

describe('removing a device while another has not synced yet', () => {
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

  /*
   * Known gap, kept as a failing test: a device that logs while it has not yet
   * synced a removal seals under the epoch it knows (DocSync.seal), and pushes
   * that envelope unchanged once it has applied the removal. The relay accepts
   * any epoch up to the vault's (session push) and the other devices accept an
   * old epoch from a current member (DocSync.check), so an entry written after
   * the removal stays readable with a key the removed device held. Closing it needs the writer to reseal unacknowledged outbox entries
   * under the newest epoch once it learns of a new epoch (before pushing
   * them), or devices and relay refusing envelopes of an epoch closed by a
   * removal.
   */
  it.fails('[D1b] an entry logged after a removal by a device that had not synced the removal yet is unreadable to the removed device', async () => {
    const h = (n: string): string => home(`d1b-${n}`)
    let readable: string[]
    try {
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
      if (held.epochs.join() !== '0') throw new Error(`the removed device holds epochs ${held.epochs.join()}`)
      readable = openEach(relayRows(relay.db), held.keys)
        .filter((o) => o.body !== undefined && Buffer.from(o.body).toString('latin1').includes(note))
        .map((o) => `${o.row.deviceId} seq ${o.row.seq} epoch ${decodeEnvelope(o.row.bytes).header.epoch}`)
    } catch (e) {
      // A broken set-up must not pass for the expected failure: returning makes it.fails report it.
      console.error('[D1b] set-up failed:', e)
      return
    }
    expect(readable, 'entries written after the removal that the removed device opens').toEqual([])
  }, 30_000)
})
