// Node side of the browser suite: bundles test-fixtures/browserSuite.ts with
// Vite, serves it on loopback, and runs it in the system's Chromium through
// playwright-core (which never downloads a browser of its own).
import { mkdtempSync, rmSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { type Rolldown, build, defaultClientConditions } from 'vite'
import type { TestResult } from './vitestShim.js'

const here = fileURLToPath(new URL('.', import.meta.url))

/** Where Chromium is looked for; MINDSYNC_CHROMIUM points elsewhere (or at nothing, to try the skip). */
export const chromiumPath = process.env.MINDSYNC_CHROMIUM || '/usr/bin/chromium'

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

/** The page's files by URL path: the bundle of browserSuite.ts with 'vitest' replaced by the shim. */
export async function bundleSuite(): Promise<Map<string, { type: string; body: string }>> {
  const output = (await build({
    configFile: false,
    root: here,
    logLevel: 'warn',
    publicDir: false,
    // Workspace packages from their sources, as in the Node tests.
    resolve: { conditions: ['source', ...defaultClientConditions], alias: [{ find: /^vitest$/, replacement: join(here, 'vitestShim.ts') }] },
    build: {
      write: false,
      minify: false,
      sourcemap: 'inline',
      target: 'es2022',
      modulePreload: false,
      rollupOptions: { input: join(here, 'browserSuite.ts') },
    },
  })) as Rolldown.RolldownOutput
  const files = new Map<string, { type: string; body: string }>()
  let entry = ''
  for (const item of output.output) {
    if (item.type !== 'chunk') continue
    files.set(`/${item.fileName}`, { type: 'text/javascript', body: item.code })
    if (item.isEntry) entry = item.fileName
  }
  if (!entry) throw new Error('the bundle has no entry chunk')
  files.set('/', { type: 'text/html', body: `<!doctype html><meta charset="utf-8"><title>store-idb suite</title><script type="module" src="/${entry}"></script>` })
  return files
}

/** Serves `files` on 127.0.0.1 (a random port); everything else is 404. */
export async function serve(files: Map<string, { type: string; body: string }>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const file = files.get(new URL(req.url ?? '/', 'http://x').pathname)
    if (!file) return res.writeHead(404).end()
    res.writeHead(200, { 'content-type': `${file.type}; charset=utf-8`, 'cache-control': 'no-store' }).end(file.body)
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server }
}

/** What one run of the page gave: per-test results, the page's console, and its uncaught errors. */
export interface PageRun {
  results: TestResult[] | undefined
  console: string[]
  pageErrors: string[]
}

/** Opens `url` in a fresh Chromium profile and waits (up to `timeoutMs`) for the page's results. */
export async function runInChromium(url: string, timeoutMs: number): Promise<PageRun> {
  const profile = mkdtempSync(join(tmpdir(), 'mindsync-chromium-'))
  const run: PageRun = { results: undefined, console: [], pageErrors: [] }
  const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS })
  try {
    const page = context.pages()[0] ?? (await context.newPage())
    page.on('console', (m) => run.console.push(m.text()))
    page.on('pageerror', (e) => run.pageErrors.push(`${e.message}\n${e.stack ?? ''}`))
    await page.goto(url)
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the page gave no results within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      run.results = await Promise.race([page.evaluate(() => globalThis.mindsyncSuite), late])
    } finally {
      clearTimeout(timer)
    }
  } finally {
    await context.close()
    rmSync(profile, { recursive: true, force: true })
  }
  return run
}
