// Runs bench/lib/browserPage.mjs in the system's Chromium: bundled with Vite, served on
// loopback, driven by playwright-core (which never downloads a browser of its own).
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const chromiumPath = process.env.MINDSYNC_CHROMIUM || '/usr/bin/chromium'
const here = dirname(fileURLToPath(import.meta.url))
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']

async function bundle() {
  const { build } = await import('vite')
  const output = await build({
    configFile: false,
    root: here,
    logLevel: 'warn',
    publicDir: false,
    build: { write: false, minify: false, target: 'es2022', modulePreload: false, rollupOptions: { input: join(here, 'browserPage.mjs') } },
  })
  const files = new Map()
  let entry
  for (const item of output.output) {
    if (item.type !== 'chunk') continue
    files.set(`/${item.fileName}`, item.code)
    if (item.isEntry) entry = item.fileName
  }
  files.set('/', `<!doctype html><meta charset="utf-8"><title>mindsync bench</title><script type="module" src="/${entry}"></script>`)
  return files
}

/** Opens the page with `query` and resolves with what it reports (`benchResult`), or rejects with its error. */
export async function runPage(query, timeoutMs = 120_000) {
  if (!existsSync(chromiumPath)) throw new Error(`Chromium not found at ${chromiumPath} (apt-get install chromium, or set MINDSYNC_CHROMIUM)`)
  const files = await bundle()
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const body = files.get(path)
    if (body === undefined) return res.writeHead(404).end()
    res.writeHead(200, { 'content-type': `${path === '/' ? 'text/html' : 'text/javascript'}; charset=utf-8` }).end(body)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { chromium } = await import('playwright-core')
  const profile = mkdtempSync(join(tmpdir(), 'mindsync-bench-chromium-'))
  const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, headless: true, args: ARGS })
  try {
    const page = context.pages()[0] ?? (await context.newPage())
    const errors = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`http://127.0.0.1:${server.address().port}/?${new URLSearchParams(query)}`)
    await page.waitForFunction(() => globalThis.benchResult || globalThis.benchError, undefined, { timeout: timeoutMs, polling: 100 })
    const { result, error } = await page.evaluate(() => ({ result: globalThis.benchResult, error: globalThis.benchError }))
    if (error || errors.length > 0) throw new Error(`the page failed: ${error ?? errors.join('\n')}`)
    return result
  } finally {
    await context.close()
    server.close()
    rmSync(profile, { recursive: true, force: true })
  }
}
