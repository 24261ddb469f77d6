// mindsync and its peers, side by side, with the same workload in one run.
//   node bench/run.mjs [--quick] [--systems a,b] [--scenarios x,y] [--repeat n] [--profile]
// Prints a markdown table, writes results/latest.{json,md,svg,png}.
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnChild } from './lib/ipc.mjs'
import { SYSTEMS, plan } from './lib/plan.mjs'
import { claims, clientCostTable, markdownTable, pausesTable, svgChart } from './lib/report.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const flag = (name) => args.includes(name)
const option = (name) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const quick = flag('--quick')
const profile = flag('--profile')
const onlySystems = option('--systems')?.split(',') ?? SYSTEMS
const onlyScenarios = option('--scenarios')?.split(',')
const resultsDir = join(here, 'results')
const SCENARIO_TIMEOUT_MS = 8 * 60_000
/** Extra Node flags for a child process, from an environment variable (BENCH_NODE_FLAGS: the devices', BENCH_SERVER_FLAGS: the server's). */
const flagsFrom = (name) => process.env[name]?.split(' ').filter(Boolean) ?? []

const waitReady = (c) =>
  new Promise((resolve, reject) => {
    c.child.on('message', (m) => m?.kind === 'ready' && resolve())
    c.exited.then(({ code, signal }) => reject(new Error(`child exited before it was ready (${code ?? signal})`)))
  })

// --profile: the children profile the measured window only (lib/profiler.mjs) into results/profiles/.
const profileDir = (system, id) => (profile ? join(resultsDir, 'profiles', `${system}-${id}`) : undefined)

async function runOne(step, system) {
  let server
  let driver
  const stop = async () => {
    await driver?.rpc.call('exit').catch(() => {})
    await server?.rpc.call('stop').catch(() => {})
    for (const c of [driver, server]) {
      if (!c) continue
      const done = await Promise.race([c.exited, new Promise((r) => setTimeout(() => r(undefined), 5000))])
      if (!done) c.child.kill('SIGKILL')
    }
  }
  let timer
  try {
    let url
    if (!step.noServer) {
      server = spawnChild(join(here, 'lib/serverMain.mjs'), { label: `${system} server`, role: 'relay', execArgv: ['--expose-gc', ...flagsFrom('BENCH_SERVER_FLAGS')], profileDir: profileDir(system, step.id) })
      await waitReady(server)
      ;({ url } = await server.rpc.call('start', { system }))
    }
    driver = spawnChild(join(here, 'lib/driverMain.mjs'), { label: `${system} clients`, role: 'clients', execArgv: ['--max-old-space-size=8192', ...flagsFrom('BENCH_NODE_FLAGS')], profileDir: profileDir(system, step.id) })
    driver.rpc.serve({ server: ({ method, params }) => server.rpc.call(method, params) })
    await waitReady(driver)
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${SCENARIO_TIMEOUT_MS / 1000} s`)), SCENARIO_TIMEOUT_MS)
    })
    return await Promise.race([driver.rpc.call('run', { kind: step.kind, system, url, room: step.id, params: step.params }), timeout])
  } finally {
    clearTimeout(timer)
    await stop()
  }
}

const mode = quick ? 'quick' : 'full'
const records = []
const failures = []
const started = performance.now()
console.log(`mindsync bench (${mode}): ${onlySystems.join(', ')} on Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`)
if (loadavg()[0] > 1.5) console.log(`warning: load average is ${loadavg()[0].toFixed(2)}: other processes compete for the CPU and the figures will be noisy`)

for (const step of plan(quick)) {
  if (onlyScenarios ? !onlyScenarios.includes(step.id) : step.optional) continue
  const systems = (step.systems ?? SYSTEMS).filter((s) => onlySystems.includes(s))
  // Noisy scenarios run `repeat` times, the systems taking turns, so a slow moment of the machine
  // falls on every system alike; the run with the median `medianOf` figure is reported.
  const repeat = Number(option('--repeat') ?? step.repeat ?? 1)
  const runs = new Map(systems.map((s) => [s, []]))
  for (let round = 0; round < repeat; round++) {
    for (const system of systems) {
      const load = Math.round(loadavg()[0] * 100) / 100
      const t0 = performance.now()
      const label = repeat > 1 ? `${step.id} / ${system} (run ${round + 1} of ${repeat})` : `${step.id} / ${system}`
      try {
        const figures = await runOne(step, system)
        runs.get(system).push({ figures, load })
        console.log(`${label}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
      } catch (e) {
        console.log(`${label}: FAILED: ${e.message}`)
        failures.push({ system, scenario: step.id, error: e.message })
        records.push({ system, scenario: step.id, error: e.message, mode, loadAvg1: load })
      }
    }
  }
  for (const system of systems) {
    const done = runs.get(system)
    if (done.length === 0) continue
    const { figures, load } = medianRun(done, step.medianOf)
    const extra = done.length > 1 ? { runs: done.map((r) => r.figures[step.medianOf]), medianOf: step.medianOf } : {}
    for (const r of step.records(figures)) records.push({ system, ...r, ...extra, mode, loadAvg1: load })
  }
}

/** The run whose `figure` is the median (the lower middle one for an even count). */
function medianRun(done, figure) {
  if (done.length === 1 || !figure) return done[0]
  const sorted = [...done].sort((a, b) => a.figures[figure] - b.figures[figure])
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

const seconds = Math.round((performance.now() - started) / 1000)
const sizes = quick ? '; quick: smaller counts, see the JSON' : ''
const title = `mindsync vs peers (${mode} run, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} cores${sizes})`
const table = markdownTable(records)
const costs = clientCostTable(records)
const pauses = pausesTable(records)
const checked = claims(records, { quick })
const md = [`# ${title}`, '', table, '', costs, '', pauses, '', checked.markdown, '', `Run took ${seconds} s.`, ''].join('\n')
mkdirSync(resultsDir, { recursive: true })
writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(records, null, 2)}\n`)
writeFileSync(join(resultsDir, 'latest.md'), md)
const svg = svgChart(records, { title })
writeFileSync(join(resultsDir, 'latest.svg'), svg)
let png = false
try {
  execFileSync('convert', ['-density', '110', join(resultsDir, 'latest.svg'), join(resultsDir, 'latest.png')], { stdio: 'ignore' })
  png = true
} catch {
  // ImageMagick is optional: the SVG is the chart. A PNG of an earlier run would show old figures.
  rmSync(join(resultsDir, 'latest.png'), { force: true })
}
console.log(`\n${md}`)
console.log(`wrote results/latest.json, latest.md, latest.svg${png ? ', latest.png' : ' (no PNG: ImageMagick `convert` not available or could not read the SVG)'}`)
if (failures.length > 0) {
  console.error(`\n${failures.length} scenario(s) failed:`)
  for (const f of failures) console.error(`  ${f.scenario} / ${f.system}: ${f.error}`)
  process.exitCode = 1
}
