import { decodeEnvelope } from '@mindsync/protocol'
import { describe, expect, it } from 'vitest'
import { everyKeyOf, ok, openEach, pairHomes, relayRows, useRelay } from '../helpers.js'

describe('removing a device while another has not synced yet', () => {
  const { relay, home } = useRelay()

  // A device that logs before it has synced a removal seals under the epoch it
  // knows; once it learns of the removal it seals those outbox entries again
  // under the new epoch before they leave (and the relay refuses a stale epoch).
  it('[D1b] an entry logged after a removal by a device that had not synced the removal yet is unreadable to the removed device', async () => {
    const h = (n: string): string => home(`d1b-${n}`)
    let readable: string[] = []
    {
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
    }
    expect(readable, 'entries written after the removal that the removed device opens').toEqual([])
  }, 60_000)
})
