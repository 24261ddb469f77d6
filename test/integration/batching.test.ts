import type { Transport } from '@mindsync/client'
import { createMemoryRelayStorage, createRelayCore, silentLog } from '@mindsync/relay'
import { describe, expect, it } from 'vitest'
import { createCoreTransport } from '../harness/coreTransport.js'
import { admit, founder, notes, online, turn } from '../harness/devices.js'
import type { TestDevice } from '../harness/devices.js'

/** A transport whose device→relay frames can be held (the relay then answers nothing) and let go; `sent` counts the frames the device sent, held or not. */
function holdable(inner: Transport): { transport: Transport; hold(): void; release(): void; readonly sent: number } {
  let held: (() => void)[] | undefined
  let sent = 0
  return {
    get sent() {
      return sent
    },
    transport: {
      async connect(request, handlers) {
        const c = await inner.connect(request, handlers)
        const send = (frame: Uint8Array): void => {
          sent++
          if (held) held.push(() => c.send(frame))
          else c.send(frame)
        }
        return { send, close: (code, reason) => c.close(code, reason) }
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

const ownEnvelopes = async (d: TestDevice) => (await d.store.listEnvelopes(d.doc!.key)).filter((e) => e.author === d.client.deviceId && e.seq > 0)

/** A founding phone (with `batchMs` when given) and a laptop it admitted, both online through one holdable transport. */
async function phoneAndLaptop(options: { batchMs?: number } = {}) {
  const net = holdable(createCoreTransport(createRelayCore({ storage: createMemoryRelayStorage(), log: silentLog })))
  const phone = await founder('phone', net.transport, options)
  const laptop = await admit(phone, 'laptop', net.transport)
  await online(phone)
  await online(laptop)
  return { net, phone, laptop }
}

describe('when local changes are sealed', () => {
  it('[B1] an idle device seals a change at the end of the task that made it; changes made while a push awaits its answer go together once it comes', async () => {
    // A batch window far longer than the test: only the pipeline decides when changes go.
    const { net, phone, laptop } = await phoneAndLaptop({ batchMs: 60_000 })
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

  it('[B2] an idle device pushes a change before the event loop reads a socket or runs the next callback: a busy loop does not hold it back', async () => {
    const { net, phone, laptop } = await phoneAndLaptop()
    await expect.poll(() => phone.doc!.outboxSize, { timeout: 2000 }).toBe(0)

    // Queued before the change, so it runs first among the callbacks of the next turn.
    const before = net.sent
    let pushedBeforeNextCallback = -1
    setImmediate(() => {
      pushedBeforeNextCallback = net.sent - before
    })
    phone.journal!.logSession({ minutes: 5, note: 'pushed in this task' })
    phone.journal!.logSession({ minutes: 6, note: 'same task, same envelope' })
    await turn()
    expect(pushedBeforeNextCallback).toBe(1)
    await expect.poll(() => notes(laptop).length, { timeout: 2000 }).toBe(2)
    for (const d of [phone, laptop]) await d.client.close()
  })

  it('[B3] a change made batchMs after the last push goes at once, though that push is unanswered: the hold counts from the push, not from the change', async () => {
    const { net, phone, laptop } = await phoneAndLaptop({ batchMs: 20 })
    await expect.poll(() => phone.doc!.outboxSize, { timeout: 2000 }).toBe(0)

    net.hold()
    const before = net.sent
    phone.journal!.logSession({ minutes: 5, note: 'unanswered' })
    await expect.poll(() => net.sent - before, { timeout: 2000 }).toBe(1)
    await new Promise((r) => setTimeout(r, 40))
    let pushedBeforeNextCallback = -1
    setImmediate(() => {
      pushedBeforeNextCallback = net.sent - before
    })
    phone.journal!.logSession({ minutes: 6, note: 'made 40 ms after the push' })
    await turn()
    expect(pushedBeforeNextCallback).toBe(2)

    net.release()
    await expect.poll(() => notes(laptop).length, { timeout: 2000 }).toBe(2)
    for (const d of [phone, laptop]) await d.client.close()
  })
})
