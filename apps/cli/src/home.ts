import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { createSyncClient, createWebSocketTransport, isMindsyncError } from '@mindsync/client'
import type { SyncClient, SyncClientOptions } from '@mindsync/client'
import { askPassphrase, givenPassphrase } from './passphrase.js'
import { createSqliteStore } from '@mindsync/store-sqlite'
import WebSocket from 'ws'
import { UsageError } from './errors.js'

/** One device per home folder: its store (keys, log, envelopes) and its settings. */
export interface Home {
  dir: string
  config: HomeConfig
  saveConfig(config: HomeConfig): void
}

export interface HomeConfig {
  relay?: string
}

/** The home folder: --home, else MINDSYNC_HOME, else ~/.mindsync */
export function resolveHome(flag: string | undefined): string {
  return resolve(flag ?? process.env.MINDSYNC_HOME ?? join(homedir(), '.mindsync'))
}

export function openHome(dir: string): Home {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = join(dir, 'config.json')
  const config: HomeConfig = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as HomeConfig) : {}
  return {
    dir,
    config,
    saveConfig(next) {
      writeFileSync(file, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 })
      chmodSync(file, 0o600)
      Object.assign(config, next)
    },
  }
}

/** True when this home already holds a device. */
export function hasDevice(dir: string): boolean {
  return existsSync(join(dir, 'device.db'))
}

/** Checks a relay URL: ws:// or wss:// with a host. */
export function checkRelayUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UsageError(`--relay must be a URL like ws://127.0.0.1:8787, got "${url}"`)
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new UsageError(`--relay must start with ws:// or wss://, got "${url}"`)
  return url.replace(/\/+$/, '')
}

/** The engine's options for a home: its store, the WebSocket transport, the relay, and the passphrase when one is given. */
export function clientOptions(home: Home, options: { name?: string; relay?: string } = {}): SyncClientOptions {
  const url = options.relay ?? home.config.relay
  const passphrase = givenPassphrase()
  return {
    store: createSqliteStore(join(home.dir, 'device.db')),
    transport: createWebSocketTransport({ WebSocket }),
    name: options.name ?? 'device',
    ...(url ? { url } : {}),
    ...(passphrase === undefined ? {} : { passphrase }),
  }
}

/** Opens the device of a home; when its keys are locked and no passphrase was given, asks for one on a terminal. */
export async function openClient(home: Home, options: { name?: string; relay?: string } = {}): Promise<SyncClient> {
  const opts = clientOptions(home, options)
  try {
    return await createSyncClient(opts)
  } catch (e) {
    if (!isMindsyncError(e, 'E_LOCKED') || opts.passphrase !== undefined) throw e
    await opts.store.close()
    const typed = await askPassphrase()
    if (typed === undefined) throw e
    return await createSyncClient({ ...clientOptions(home, options), passphrase: typed })
  }
}
