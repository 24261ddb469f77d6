import type { Transport } from '@mindsync/client'
import { fromHex, toHex } from '@mindsync/crypto'
import { decodeEnvelope, encodeFrame } from '@mindsync/protocol'
import { createMemoryRelayStorage, createRelayCore, silentLog } from '@mindsync/relay'
import type { RelayStorage } from '@mindsync/relay'
import { describe, expect, it } from 'vitest'
import { createCoreTransport } from '../harness/coreTransport.js'
import { admit, founder, notes, online, until, write } from '../harness/devices.js'
import type { TestDevice } from '../harness/devices.js'

/** An honest relay core, and a way to send a device frames the core never sent (what a lying relay would). */
function relayThatCanLie(): { transport: Transport; say(device: TestDevice, frame: Uint8Array): void; storage: RelayStorage } {
  const storage = createMemoryRelayStorage()
  const honest = createCoreTransport(createRelayCore({ storage, log: silentLog }))
  const toDevice = new Map<string, (frame: Uint8Array) => void>()
  return {
    storage,
    transport: {
      async connect(request, handlers) {
        toDevice.set(toHex(request.signPub), handlers.onFrame)
        return honest.connect(request, handlers)
      },
    },
    say(device, frame) {
      const send = toDevice.get(toHex(device.client.identity.signPub))
      if (!send) throw new Error(`${device.name} never connected`)
      send(frame)
    },
  }
}

/** The envelopes of `author` the relay stored in the journal, lowest serverSeq first. */
async function storedOf(relay: ReturnType<typeof relayThatCanLie>, d: TestDevice, author: TestDevice): Promise<{ seq: number; serverSeq: number; envelope: Uint8Array }[]> {
  const vault = fromHex(d.client.vaultId!)
  const all = await relay.storage.readEnvelopes(vault, d.doc!.docId, 0, 1000, 1 << 24)
  return all
    .map((e) => ({ header: decodeEnvelope(e.envelope).header, serverSeq: e.serverSeq, envelope: e.envelope }))
    .filter((e) => toHex(e.header.deviceId) === author.client.deviceId)
    .map((e) => ({ seq: e.header.seq, serverSeq: e.serverSeq, envelope: e.envelope }))
}

/** A phone and a laptop in one vault on a relay that can lie, both online, that write `entries` in turn, each acknowledged before the next. */
async function twoDevices(entries: [who: 'phone' | 'laptop', note: string][]): Promise<{ relay: ReturnType<typeof relayThatCanLie>; phone: TestDevice; laptop: TestDevice }> {
  const relay = relayThatCanLie()
  const phone = await founder('phone', relay.transport)
  const laptop = await admit(phone, 'laptop', relay.transport)
  await online(phone)
  await online(laptop)
  for (const [who, note] of entries) {
    const d = who === 'phone' ? phone : laptop
    await write(d, note)
    await until(`${d.name}'s entry acknowledged`, () => d.doc!.outboxSize === 0)
  }
  await until('the phone has every entry', () => notes(phone).length === entries.length)
  return { relay, phone, laptop }
}

describe('own serverSeqs', () => {
  it("[FK1] an envelope served at a serverSeq the relay gave one of this device's own, after the cursor passed it, is raised as 'fork'", async () => {
    const { relay, phone, laptop } = await twoDevices([['phone', 'mine'], ['laptop', 'theirs']])
    const mine = (await storedOf(relay, phone, phone))[0]!
    const theirs = (await storedOf(relay, phone, laptop)).at(-1)!
    // The phone's cursor passes its own entry once the relay stored the laptop's after it.
    await until('the phone\'s cursor passed both', async () => (await phone.store.getCursor(phone.doc!.key)) >= theirs.serverSeq)
    expect(theirs.serverSeq).toBeGreaterThan(mine.serverSeq)
    expect(phone.client.alerts()).toEqual([])

    // Later (a repair fetch, a subscribe from an older cursor) the relay serves the laptop's
    // authentic envelope as its entry at the phone's serverSeq: it tells the laptop another story.
    relay.say(phone, encodeFrame([{ type: 'envelopes', docId: phone.doc!.docId, items: [{ serverSeq: mine.serverSeq, envelope: theirs.envelope }] }]))
    await until("the phone raises 'fork'", () => phone.client.alerts().length > 0)
    expect(phone.client.alerts()[0]).toMatchObject({
      kind: 'fork',
      evidence: { serverSeq: mine.serverSeq, ownSeq: mine.seq, servedAuthor: laptop.client.deviceId, servedSeq: theirs.seq },
    })
    // Nothing it holds changed.
    expect(notes(phone)).toEqual(['mine', 'theirs'])
    await phone.client.close()
    await laptop.client.close()
  })

  it('[FK2] the relay serving every entry again from the start, each at its own serverSeq, raises nothing', async () => {
    const { relay, phone, laptop } = await twoDevices([['phone', 'one'], ['laptop', 'two'], ['phone', 'three']])
    const vault = fromHex(phone.client.vaultId!)
    const all = await relay.storage.readEnvelopes(vault, phone.doc!.docId, 0, 1000, 1 << 24)
    const own = (await storedOf(relay, phone, phone)).map((e) => e.serverSeq)
    expect(own.length).toBeGreaterThanOrEqual(2)
    relay.say(phone, encodeFrame([{ type: 'envelopes', docId: phone.doc!.docId, items: all.map((e) => ({ serverSeq: e.serverSeq, envelope: e.envelope })) }]))
    // A lie in the same frame is caught, so the frame was read: the honest part raised nothing.
    const theirs = (await storedOf(relay, phone, laptop))[0]!
    relay.say(phone, encodeFrame([{ type: 'envelopes', docId: phone.doc!.docId, items: [{ serverSeq: own[0]!, envelope: theirs.envelope }] }]))
    await until('the phone read both frames', () => phone.client.alerts().length > 0)
    expect(phone.client.alerts().map((a) => a.kind)).toEqual(['fork'])
    expect(notes(phone)).toEqual(['one', 'three', 'two'])
    await phone.client.close()
    await laptop.client.close()
  })
})
