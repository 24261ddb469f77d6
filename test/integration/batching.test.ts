import type { Transport } from '@mindsync/client'
import { createMemoryRelayStorage, createRelayCore, silentLog } from '@mindsync/relay'
import { describe, expect, it } from 'vitest'
import { createCoreTransport } from '../harness/coreTransport.js'
import { admit, founder, notes, online } from '../harness/devices.js'
import type { TestDevice } from '../harness/devices.js'

/** A transport whose device→relay frames can be held (the relay then answers nothing) and let go. */
function holdable(inner: Transport): { transport: Transport; hold(): void; release(): void } {
  let held: (() => void)[] | undefined
  return {
    transport: {
      async connect(request, handlers) {
        const c = await inner.connect(request, handlers)
        return { send: (frame) => (held ? held.push(() => c.send(frame)) : c.send(frame)), close: (code, reason) => c.close(code, reason) }
      },
    },
    hold: () => {
      held = []
    },
    release: () => {
      const frames = held ?? []
      held = undefined
      for (const send of frames) send()
    },
  }
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))
const ownEnvelopes = async (d: TestDevice) => (await d.store.listEnvelopes(d.doc!.key)).filter((e) => e.author === d.client.deviceId && e.seq > 0)

describe('when local changes are sealed', () => {
  it('an idle device seals a change right after the turn that made it; changes made while a push awaits its answer go together once it comes', async () => {
    const net = holdable(createCoreTransport(createRelayCore({ storage: createMemoryRelayStorage(), log: silentLog })))
    // A batch window far longer than the test: only the pipeline decides when changes go.
    const phone = await founder('phone', net.transport, { batchMs: 60_000 })
    const laptop = await admit(phone, 'laptop', net.transport)
    await online(phone)
    await online(laptop)
    const before = (await ownEnvelopes(phone)).length

    phone.journal!.logSession({ minutes: 5, note: 'idle: goes at once' })
    await expect.poll(() => phone.doc!.outboxSize === 0 && notes(laptop).includes('idle: goes at once'), { timeout: 2000 }).toBe(true)
    expect((await ownEnvelopes(phone)).length).toBe(before + 1)

    net.hold()
    phone.journal!.logSession({ minutes: 5, note: 'first while held' })
    await expect.poll(async () => (await ownEnvelopes(phone)).length, { timeout: 2000 }).toBe(before + 2)
    // Its push is unanswered: the next changes, each in its own turn, wait.
    phone.journal!.logSession({ minutes: 5, note: 'second while held' })
    await turn()
    phone.journal!.logSession({ minutes: 5, note: 'third while held' })
    for (let i = 0; i < 20; i++) await turn()
    expect((await ownEnvelopes(phone)).length).toBe(before + 2)

    net.release()
    await expect.poll(() => notes(laptop).length, { timeout: 2000 }).toBe(4)
    // One more envelope for both waiting changes.
    expect((await ownEnvelopes(phone)).length).toBe(before + 3)
    expect(notes(laptop)).toEqual(['first while held', 'idle: goes at once', 'second while held', 'third while held'])
    for (const d of [phone, laptop]) await d.client.close()
  })
})
