import { existsSync, readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { SyncClient } from '@mindsync/client'
import { createJournal } from '@mindsync/practice'
import type { Journal } from '@mindsync/practice'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { bundlePage, chromiumPath, openChromium, serve } from '../../packages/store-idb/test-fixtures/chromium.js'
import { httpUrlOf, openDevice, relayRows, startRelay, tempDir, waitUntil } from '../helpers.js'
import type { RelayProcess } from '../helpers.js'

// A web app's device: the engine bundled for the browser, on IndexedDB, in
// real Chromium, syncing with a Node device through the relay daemon on
// loopback. The page is served from another origin than the relay's.

const hasChromium = existsSync(chromiumPath)
if (!hasChromium) console.warn(`browser device test not run: Chromium not installed (apt-get install chromium); looked for ${chromiumPath}`)

describe.skipIf(!hasChromium)('a device in Chromium (IndexedDB)', () => {
  const tmp = tempDir('mindsync-browser-')
  let relay: RelayProcess
  let site: Server
  let siteUrl: string
  let browser: Awaited<ReturnType<typeof openChromium>>
  let page: Page
  let phone: SyncClient
  let journal: Journal

  const phoneNotes = () => journal.sessions().map((s) => s.note).sort()
  const inPage = <T>(fn: () => T | Promise<T>): Promise<T> => page.evaluate(fn)

  beforeAll(async () => {
    relay = await startRelay(join(tmp.dir, 'relay.db'))
    const served = await serve(await bundlePage(fileURLToPath(new URL('./browser/devicePage.ts', import.meta.url)), 'mindsync device'))
    site = served.server
    siteUrl = `${served.url}?relay=${encodeURIComponent(relay.url)}`
    browser = await openChromium()
    page = browser.context.pages()[0] ?? (await browser.context.newPage())
    await page.goto(siteUrl)
    await page.waitForFunction(() => globalThis.device !== undefined)

    phone = await openDevice(join(tmp.dir, 'phone'), relay.url)
    await phone.createVault()
    await phone.syncOnce()
    const ydoc = new Y.Doc()
    await phone.bind('journal', ydoc)
    journal = createJournal(ydoc, { device: phone.deviceId })
    phone.connect()
  }, 120_000)

  afterAll(async () => {
    await phone?.close()
    await browser?.close()
    await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)))
    await relay?.stop()
    tmp.cleanup()
  })

  it('[BR1] is paired from another origin, and syncs both ways with a Node device through the relay', async () => {
    expect(new URL(siteUrl).origin).not.toBe(new URL(httpUrlOf(relay.url)).origin)
    await inPage(() => globalThis.device.open())
    await phone.acceptPairing(await inPage(() => globalThis.device.offer()))
    await inPage(async () => {
      await globalThis.device.syncOnce()
      await globalThis.device.bind()
      await globalThis.device.connect()
    })
    journal.logSession({ minutes: 20, note: 'morning sit, on the phone' })
    await phone.flush()
    await inPage(() => globalThis.device.write('evening walk, in the browser'))
    const both = ['evening walk, in the browser', 'morning sit, on the phone']
    await waitUntil(() => phoneNotes().length === 2, 10_000, () => `phone has ${JSON.stringify(phoneNotes())}`)
    await page.waitForFunction((n) => globalThis.device.notes().length === n, 2, { timeout: 10_000 })
    expect(phoneNotes()).toEqual(both)
    expect(await inPage(() => globalThis.device.notes())).toEqual(both)
    await page.waitForFunction(() => globalThis.device.outboxSize() === 0, undefined, { timeout: 10_000 })
  })

  it('[BR5] presence travels both ways, sealed, between the browser and the phone', async () => {
    phone.presence('journal').setLocalStateField('activity', 'sitting, on the phone')
    await inPage(() => globalThis.device.setActivity('walking, in the browser'))
    const both = ['sitting, on the phone', 'walking, in the browser']
    const onPhone = () => [...phone.presence('journal').getStates().values()].map((st) => String(st.activity)).sort()
    await waitUntil(() => JSON.stringify(onPhone()) === JSON.stringify(both), 10_000, () => `phone shows ${JSON.stringify(onPhone())}`)
    // On a timeout the expectation below says what the page shows.
    await page.waitForFunction((n) => globalThis.device.activities().length === n, 2, { timeout: 10_000 }).catch(() => {})
    expect(await inPage(() => globalThis.device.activities())).toEqual(both)
  })

  it('[BR2] after a reload it shows the journal from IndexedDB before connecting, and what it writes next reaches the phone without an alert', async () => {
    await inPage(() => globalThis.device.close())
    await page.reload()
    await page.waitForFunction(() => globalThis.device !== undefined)
    await inPage(async () => {
      await globalThis.device.open()
      await globalThis.device.bind()
    })
    expect(await inPage(() => globalThis.device.notes())).toEqual(['evening walk, in the browser', 'morning sit, on the phone'])
    await inPage(async () => {
      await globalThis.device.connect()
      await globalThis.device.write('after the reload')
    })
    await waitUntil(() => phoneNotes().includes('after the reload'), 10_000, () => `phone has ${JSON.stringify(phoneNotes())}`)
    expect(await inPage(() => globalThis.device.alerts())).toEqual([])
    expect(phone.alerts()).toEqual([])
  })

  it('[BR3] the relay stores what the browser wrote, and its file holds none of it in plaintext', async () => {
    const browserId = await inPage(() => globalThis.device.id())
    // The phone can have the browser's last envelope before the relay stored it (early fan-out);
    // an acknowledged one is stored, so wait for the acks first.
    await page.waitForFunction(() => globalThis.device.outboxSize() === 0, undefined, { timeout: 10_000 })
    const fromBrowser = relayRows(join(tmp.dir, 'relay.db')).filter((r) => r.deviceId === browserId)
    expect(fromBrowser.length).toBeGreaterThanOrEqual(2)
    const file = readFileSync(join(tmp.dir, 'relay.db'))
    const wal = existsSync(join(tmp.dir, 'relay.db-wal')) ? readFileSync(join(tmp.dir, 'relay.db-wal')) : Buffer.alloc(0)
    for (const text of ['evening walk', 'after the reload', 'morning sit']) {
      expect(file.includes(text)).toBe(false)
      expect(wal.includes(text)).toBe(false)
    }
  })

  it('[BR4] once removed, it says it was removed, both while connected and when it starts again, though a browser hides why an upgrade was refused', async () => {
    const id = await inPage(() => globalThis.device.id())
    await phone.removeDevice(id)
    await page.waitForFunction(() => globalThis.device.status().status === 'revoked', undefined, { timeout: 10_000 })

    await page.reload()
    await page.waitForFunction(() => globalThis.device !== undefined)
    await inPage(async () => {
      await globalThis.device.open()
      globalThis.device.start()
    })
    await page.waitForFunction(() => ['revoked', 'refused'].includes(globalThis.device.status().status), undefined, { timeout: 10_000 })
    expect(await inPage(() => globalThis.device.status())).toMatchObject({ status: 'revoked', code: 'E_REVOKED' })
  })
})
