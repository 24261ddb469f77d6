import { afterEach, describe, expect, it, vi } from 'vitest'
import { nextTurn } from './nextTurn.js'

/** What ran, in order, once the microtasks, the next turn and a 0 ms timer are all past. */
async function order(schedule: (log: string[]) => void): Promise<string[]> {
  const log: string[] = []
  schedule(log)
  queueMicrotask(() => log.push('microtask'))
  setTimeout(() => log.push('timer'), 0)
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

  it('[NT1] runs once, after the microtasks of this turn and before a 0 ms timer', async () => {
    hide()
    expect(await order((log) => nextTurn(() => log.push('next turn')))).toEqual(['microtask', 'next turn', 'timer'])
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
