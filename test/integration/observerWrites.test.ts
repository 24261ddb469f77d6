import { describe, expect, it } from 'vitest'
import { Adversary } from '../harness/adversary.js'
import { admit, founder, notes, write } from '../harness/devices.js'

describe('local changes and received updates', () => {
  it('a change an observer makes while a received update is applied is sealed and synced like any local change', async () => {
    const adv = new Adversary(7)
    const phone = await founder('phone', adv.transport)
    const laptop = await admit(phone, 'laptop', adv.transport)
    // The laptop answers every session it receives with a reply, from inside the observer.
    const doc = laptop.doc!.doc
    doc.getMap('sessions').observe((event) => {
      if (event.transaction.local) return
      const replies = doc.getMap<string>('replies')
      for (const key of event.keysChanged) if (!replies.has(key)) replies.set(key, `seen by laptop`)
    })
    await write(phone, 'morning sit')
    await phone.client.syncOnce()
    await laptop.client.syncOnce()
    expect(notes(laptop)).toEqual(['morning sit'])
    await laptop.client.syncOnce()
    await phone.client.syncOnce()
    const replies = phone.doc!.doc.getMap<string>('replies')
    expect([...replies.values()]).toEqual(['seen by laptop'])
    // And a plain local change still goes out.
    await write(laptop, 'evening sit')
    await laptop.client.syncOnce()
    await phone.client.syncOnce()
    expect(notes(phone)).toEqual(['evening sit', 'morning sit'])
    for (const d of [phone, laptop]) await d.client.close()
  })
})
