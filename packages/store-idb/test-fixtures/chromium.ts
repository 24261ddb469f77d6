// Node side of the browser suite: bundles test-fixtures/browserSuite.ts with
// Vite, serves it on loopback, and runs it in the system's Chromium through
// playwright-core (which never downloads a browser of its own).
import { mkdtempSync, rmSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BrowserContext, chromium } from 'playwright-core'
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
export function bundleSuite(): Promise<Map<string, { type: string; body: string }>> {
  return bundlePage(join(here, 'browserSuite.ts'), 'store-idb suite')
}

/**
 * A page's files by URL path: `entry` (a module) bundled with the workspace
 * packages from their sources, as in the Node tests, and an HTML page that
 * loads it at `/`. An import of 'vitest' gets the shim.
 */
export async function bundlePage(entry: string, title: string): Promise<Map<string, { type: string; body: string }>> {
  const output = (await build({
    configFile: false,
    root: here,
    logLevel: 'warn',
    publicDir: false,
    resolve: { conditions: ['source', ...defaultClientConditions], alias: [{ find: /^vitest$/, replacement: join(here, 'vitestShim.ts') }] },
    build: {
      write: false,
      minify: false,
      sourcemap: 'inline',
      target: 'es2022',
      modulePreload: false,
      rollupOptions: { input: entry },
    },
  })) as Rolldown.RolldownOutput
  const files = new Map<string, { type: string; body: string }>()
  let main = ''
  for (const item of output.output) {
    if (item.type !== 'chunk') continue
    files.set(`/${item.fileName}`, { type: 'text/javascript', body: item.code })
    if (item.isEntry) main = item.fileName
  }
  if (!main) throw new Error('the bundle has no entry chunk')
  files.set('/', { type: 'text/html', body: `<!doctype html><meta charset="utf-8"><title>${title}</title><script type="module" src="/${main}"></script>` })
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

/** A Chromium with a fresh profile (kept until close(), so a reloaded page finds its IndexedDB). */
export async function openChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'mindsync-chromium-'))
  const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS })
  return {
    context,
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** Opens `url` in a fresh Chromium profile and waits (up to `timeoutMs`) for the page's results. */
export async function runInChromium(url: string, timeoutMs: number): Promise<PageRun> {
  const run: PageRun = { results: undefined, console: [], pageErrors: [] }
  const browser = await openChromium()
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage())
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
    await browser.close()
  }
  return run
}
