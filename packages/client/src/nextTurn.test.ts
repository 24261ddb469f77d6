import { afterEach, describe, expect, it, vi } from 'vitest'
import { nextTurn } from './nextTurn.js'

/** What ran, in order, once the microtasks, the next turn and a timer of `timerMs` are all past. */
async function order(schedule: (log: string[]) => void, timerMs = 0): Promise<string[]> {
  const log: string[] = []
  schedule(log)
  queueMicrotask(() => log.push('microtask'))
  setTimeout(() => log.push('timer'), timerMs)
  await new Promise((r) => setTimeout(r, 20))
  return log
}

describe.each([
  ['Node (setImmediate)', false],
  ['a browser (MessageChannel, no setImmediate)', true],
])('nextTurn in %s', (_, browserLike) => {
  afterEach(() => vi.unstubAllGlobals())
  const hide = () => {
    if (browserLike) vi.stubGlobal('setImmediate', undefined)
  }
  // The channel path exists to beat the 4 ms browsers clamp nested timeouts to. Against Node's 1 ms
  // timer it is a race: Node hands port messages over in its poll phase, after due timers, and a
  // busy full test run once let the timer win.
  const timerMs = browserLike ? 4 : 0

  it('[NT1] runs once, after the microtasks of this turn and before a timer (0 ms; on the channel path the 4 ms browsers clamp to)', async () => {
    hide()
    expect(await order((log) => nextTurn(() => log.push('next turn')), timerMs)).toEqual(['microtask', 'next turn', 'timer'])
  })

  it('[NT2] calls made in one turn run in order; a cancelled one does not run', async () => {
    hide()
    const log = await order((log) => {
      nextTurn(() => log.push('a'))
      const cancel = nextTurn(() => log.push('cancelled'))
      nextTurn(() => log.push('b'))
      cancel()
    })
    expect(log.filter((l) => l !== 'timer' && l !== 'microtask')).toEqual(['a', 'b'])
  })
})
