// CPU profiles of the measured window only (run.mjs --profile): the V8 sampling profiler
// through node:inspector, started and stopped around the part a figure is computed from.
import { mkdirSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'

const dir = process.env.BENCH_PROFILE_DIR
let session

export const profiling = () => Boolean(dir)

export async function startProfile() {
  if (!dir || session) return
  session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
}

/** Stops the profiler and writes `<name>.cpuprofile` (open it in Chrome DevTools or speedscope). */
export async function stopProfile(name) {
  if (!dir || !session) return
  const { profile } = await session.post('Profiler.stop')
  session.disconnect()
  session = undefined
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile))
}

/** Starts profiling here and in the server process. */
export async function startWindow(server) {
  if (!dir) return
  await Promise.all([startProfile(), server('profileStart').catch(() => {})])
}

export async function stopWindow(server) {
  if (!dir) return
  await Promise.all([stopProfile('clients'), server('profileStop').catch(() => {})])
}
