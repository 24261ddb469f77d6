import { existsSync, readFileSync, readdirSync } from 'node:fs'
import type { Server } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PageRun, bundleSuite, chromiumPath, runInChromium, serve } from '../test-fixtures/chromium.js'

// The shared LocalStore suite and the IndexedDB cases run in real Chromium
// (test-fixtures/browserSuite.ts); this file checks what the page reports.

const hasChromium = existsSync(chromiumPath)
if (!hasChromium) console.warn(`browser suite not run: Chromium not installed (apt-get install chromium); looked for ${chromiumPath}`)

const client = fileURLToPath(new URL('../../client/', import.meta.url))

/** Rule ids listed in the client's SPEC.md: every one must run and pass in the browser. */
const RULES = [...readFileSync(join(client, 'SPEC.md'), 'utf8').matchAll(/^\| (ST\d+) \|/gm)].map((m) => m[1] as string)

/** Titles of the suite's tests, read from its source, so a page that ran fewer (or none) fails. */
const SUITE_TITLES = readdirSync(join(client, 'src/testing'))
  .filter((f) => f.endsWith('.ts'))
  .flatMap((f) => [...readFileSync(join(client, 'src/testing', f), 'utf8').matchAll(/\bit\(\s*(['"`])(\[ST\d+\].*?)\1/g)])
  .map((m) => (m[2] as string).replace(/\\(.)/g, '$1'))

/** The suite runs once per store configuration (see browserSuite.ts). */
const RUNS = ['idb', 'idb, durability relaxed']
const IDB_CASES = 9

describe('store-idb in real Chromium', () => {
  let run: PageRun = { results: undefined, console: [], pageErrors: [] }
  let server: Server | undefined

  beforeAll(async () => {
    if (!hasChromium) return
    const started = performance.now()
    const page = await serve(await bundleSuite())
    server = page.server
    run = await runInChromium(page.url, 240_000)
    if (process.env.MINDSYNC_BROWSER_LOG) console.log(run.console.join('\n'))
    console.log(`browser suite: ${run.results?.length ?? 0} tests in Chromium, ${Math.round(performance.now() - started)} ms in all`)
  }, 300_000)

  afterAll(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
  })

  const results = () => {
    expect(run.results, `the page reported no results; its errors: ${run.pageErrors.join('\n')}`).toBeInstanceOf(Array)
    return run.results ?? []
  }
  const explain = (names: string[]) =>
    names.map((n) => {
      const r = run.results?.find((x) => x.name === n)
      return `${r?.status ?? 'not run'}: ${n}${r?.detail ? `\n${r.detail}` : ''}`
    })

  it.skipIf(!hasChromium)('ran every test of the LocalStore suite, for each configuration, and nothing else', () => {
    expect(RULES.length, 'rule ids found in SPEC.md').toBeGreaterThanOrEqual(11)
    expect(SUITE_TITLES.length, 'tests found in the suite source').toBeGreaterThanOrEqual(RULES.length)
    const want = RUNS.flatMap((r) => SUITE_TITLES.map((t) => `LocalStore conformance: ${r} > ${t}`)).sort()
    const got = results()
      .map((r) => r.name)
      .filter((n) => n.startsWith('LocalStore conformance: '))
      .sort()
    expect(got).toEqual(want)
  })

  for (const rule of RULES) {
    it.skipIf(!hasChromium)(`[${rule}] passes on IndexedDB in Chromium`, () => {
      const mine = results().filter((r) => r.name.includes(`[${rule}]`))
      expect(mine.length, `tests of ${rule} that ran`).toBeGreaterThanOrEqual(RUNS.length)
      // The adapter gives reopen() and claims ST9, so no rule may be skipped.
      const notPassed = mine.filter((r) => r.status !== 'passed').map((r) => r.name)
      expect(explain(notPassed)).toEqual([])
    })
  }

  it.skipIf(!hasChromium)('passes the IndexedDB-specific cases (schema, upgrade from version 1, views, foreign and newer databases, close, two tabs, bad keys)', () => {
    const mine = results().filter((r) => r.name.startsWith('createIdbStore > [idb]'))
    expect(mine.length).toBe(IDB_CASES)
    expect(explain(mine.filter((r) => r.status !== 'passed').map((r) => r.name))).toEqual([])
  })

  it.skipIf(!hasChromium)('left no uncaught error or unhandled rejection in the page', () => {
    results()
    expect(run.pageErrors).toEqual([])
  })
})
