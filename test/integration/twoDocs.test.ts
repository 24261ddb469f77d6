import { createMemoryRelayStorage, createRelayCore, silentLog } from '@mindsync/relay'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createCoreTransport } from '../harness/coreTransport.js'
import { admit, founder, online, turn, until } from '../harness/devices.js'
import type { TestDevice } from '../harness/devices.js'

/** Binds two more docs besides the journal. */
async function notesAndMoods(d: TestDevice): Promise<{ notes: Y.Map<number>; moods: Y.Map<number> }> {
  const notes = new Y.Doc()
  const moods = new Y.Doc()
  await d.client.bind('notes', notes)
  await d.client.bind('moods', moods)
  return { notes: notes.getMap('entries'), moods: moods.getMap('entries') }
}

describe('one device, several docs', () => {
  it('[D1] envelopes of two docs that arrive one message after another each reach their own doc', async () => {
    const transport = createCoreTransport(createRelayCore({ storage: createMemoryRelayStorage(), log: silentLog }))
    const phone = await founder('phone', transport)
    const laptop = await admit(phone, 'laptop', transport)
    await online(phone)
    await online(laptop)
    const rejections: string[] = []
    laptop.client.on('rejected', (r) => rejections.push(`${r.code}: ${r.message}`))
    const p = await notesAndMoods(phone)
    const l = await notesAndMoods(laptop)

    // A change to each doc per turn: each turn seals one envelope per doc, and the
    // laptop's relay messages alternate between the two docs.
    for (let i = 0; i < 20; i++) {
      p.notes.set(`note ${i}`, i)
      p.moods.set(`mood ${i}`, i)
      await turn()
    }

    await until('the laptop has both docs', () => l.notes.size === 20 && l.moods.size === 20)
    expect([...l.notes.keys()].every((k) => k.startsWith('note '))).toBe(true)
    expect([...l.moods.keys()].every((k) => k.startsWith('mood '))).toBe(true)
    expect(rejections).toEqual([])
    await phone.client.close()
    await laptop.client.close()
  })
})
