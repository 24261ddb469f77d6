// Runs every test after set-up (which type-checked and built the sources
// with `tsc -b`): first the type-check of the tests, then vitest.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
// The build type-checked the sources; this checks the tests too.
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const typed = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.tests.json'], { cwd: root, stdio: 'inherit' })
if (typed.status !== 0) {
  console.error('type-check of the tests failed')
  process.exit(typed.status ?? 1)
}

const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')
const r = spawnSync(process.execPath, [vitest, 'run', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' })
// The IndexedDB store's suite and the browser device test run in the system's
// Chromium and are skipped without it (packages/store-idb/src/browser.test.ts,
// test/e2e/browser.test.ts): say so last, where it is seen.
const chromium = process.env.MINDSYNC_CHROMIUM || '/usr/bin/chromium'
if (!existsSync(chromium)) console.log(`\nnote: browser tests not run (the IndexedDB store suite, the browser device [BR1]-[BR4]): Chromium not installed (apt-get install chromium); looked for ${chromium}`)
process.exit(r.status ?? 1)
