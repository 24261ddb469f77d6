#!/usr/bin/env node
// Runs the adversarial properties for longer, or replays one failure:
//   node test/property/long.mjs --runs 5000 --seed 42
//   node test/property/long.mjs --runs 2000 --only malicious
//   node test/property/long.mjs --seed -1255232482 --path 604 --only network --trace frames
// Options:
//   --runs N      cases per property (MINDSYNC_PROPERTY_RUNS; default 2000)
//   --seed S      fast-check seed (MINDSYNC_PROPERTY_SEED; default: a fresh one, printed)
//   --path P      replay the failing case at this path (MINDSYNC_PROPERTY_PATH; needs --seed)
//   --only NAME   network | malicious | membership | snapshot | all (default: network and malicious)
//   --test TEXT   only tests whose name contains TEXT (vitest -t), e.g. "[M1]"
//   --attacks A   malicious property: only these attacks (MINDSYNC_ATTACKS), comma-separated:
//                 none, withhold, rollback, fork, fork-docs, fork-ops
//   --trace [frames]  print the adversary's trace of a failing case (MINDSYNC_PROPERTY_TRACE)
// Properties run one after another (each in its own vitest run), so their
// times are measured alone; the summary at the end lists each one.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const args = process.argv.slice(2)
const opts = { runs: '2000', only: 'default', trace: undefined, seed: undefined, path: undefined, test: undefined, attacks: undefined }
for (let i = 0; i < args.length; i++) {
  const a = args[i]
  const value = () => {
    const v = args[++i]
    if (v === undefined) usage(`${a} needs a value`)
    return v
  }
  if (a === '--runs') opts.runs = value()
  else if (a === '--seed') opts.seed = value()
  else if (a === '--path') opts.path = value()
  else if (a === '--only') opts.only = value()
  else if (a === '--test') opts.test = value()
  else if (a === '--attacks') opts.attacks = value()
  else if (a === '--trace') opts.trace = args[i + 1] === 'frames' ? (i++, 'frames') : '1'
  else if (a === '--help' || a === '-h') usage()
  else usage(`unknown option ${a}`)
}
if (!/^\d+$/.test(opts.runs)) usage('--runs takes a whole number')
if (opts.seed !== undefined && !/^-?\d+$/.test(opts.seed)) usage('--seed takes an integer')
if (opts.path !== undefined && opts.seed === undefined) usage('--path needs the --seed it came with')
opts.seed ??= String((Math.random() * 2 ** 31) | 0)

const FILES = {
  network: 'test/property/network.property.test.ts',
  malicious: 'test/property/malicious.property.test.ts',
  membership: 'test/property/membership.property.test.ts',
  snapshot: 'test/property/snapshot.property.test.ts',
}
const names = opts.only === 'default' ? ['network', 'malicious'] : opts.only === 'all' ? Object.keys(FILES) : opts.only.split(',')
for (const n of names) if (!FILES[n]) usage(`--only: unknown property ${n}`)

const env = {
  ...process.env,
  MINDSYNC_PROPERTY_RUNS: opts.runs,
  MINDSYNC_PROPERTY_SEED: opts.seed,
  MINDSYNC_PROPERTY_STATS: '1',
  ...(opts.path !== undefined ? { MINDSYNC_PROPERTY_PATH: opts.path } : {}),
  ...(opts.trace ? { MINDSYNC_PROPERTY_TRACE: opts.trace } : {}),
  ...(opts.attacks ? { MINDSYNC_ATTACKS: opts.attacks } : {}),
}
console.log(`properties: ${names.join(', ')}; ${opts.runs} cases each; seed ${opts.seed}${opts.path ? `; path ${opts.path}` : ''}`)

const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')
const results = []
for (const n of names) {
  const started = Date.now()
  // No per-test time limit: a long run takes as long as it takes (each case still has fast-check's own timeout).
  // MINDSYNC_ADVERSARY=1 narrows vitest.config.ts to the malicious file; the file is named here anyway.
  const runEnv = { ...env, MINDSYNC_ADVERSARY: '' }
  const r = spawnSync(process.execPath, [vitest, 'run', FILES[n], '--testTimeout=0', ...(opts.test ? ['-t', opts.test.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')] : [])], { cwd: root, env: runEnv, stdio: 'inherit' })
  results.push({ name: n, ok: r.status === 0, seconds: ((Date.now() - started) / 1000).toFixed(1) })
}
console.log('\nsummary (seed ' + opts.seed + ', ' + opts.runs + ' cases each):')
for (const r of results) console.log(`  ${r.ok ? 'pass' : 'FAIL'}  ${r.name}  ${r.seconds} s`)
const failed = results.filter((r) => !r.ok)
if (failed.length > 0) console.log(`replay a failure with the seed and path fast-check printed: node test/property/long.mjs --only ${failed[0].name} --seed <seed> --path <path> --trace`)
process.exit(failed.length > 0 ? 1 : 0)

function usage(problem) {
  if (problem) console.error(`long.mjs: ${problem}`)
  console.error('usage: node test/property/long.mjs [--runs N] [--seed S] [--path P] [--only network|malicious|membership|snapshot|all] [--test TEXT] [--attacks LIST] [--trace [frames]]')
  process.exit(problem ? 2 : 0)
}
