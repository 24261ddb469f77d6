import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDevice, createTestVault, mustConnect } from '@mindsync/relay/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = new URL('../../../', import.meta.url).pathname
const main = join(root, 'apps/relay/dist/main.js')
const dir = mkdtempSync(join(tmpdir(), 'mindsync-relay-daemon-'))

beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', join(root, 'apps/relay')], { stdio: 'inherit' })
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function start(args: string[]): { child: ChildProcessWithoutNullStreams; stderr: () => string; listening: Promise<string> } {
  const child = spawn(process.execPath, [main, ...args], { cwd: dir })
  let out = ''
  let err = ''
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString()
  })
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString()
      const line = out.split('\n').find((l) => l.startsWith('mindsync-relay listening on '))
      if (line) resolve(line)
    })
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}: ${err}`)))
  })
  return { child, stderr: () => err, listening }
}

const exited = (child: ChildProcessWithoutNullStreams): Promise<number | null> => new Promise((resolve) => child.once('exit', (code) => resolve(code)))

describe('mindsync-relay daemon', () => {
  it('starts, serves a device, and on SIGTERM closes sockets with 1001 and exits 0', async () => {
    const db = join(dir, 'nested', 'relay.db')
    const relay = start(['--port', '0', '--db', db])
    const line = await relay.listening
    const match = /^mindsync-relay listening on ws:\/\/127\.0\.0\.1:(\d+) \(db (.+)\)$/.exec(line)
    expect(match?.[2]).toBe(db)
    const http = `http://127.0.0.1:${match?.[1]}`
    expect(await (await fetch(`${http}/healthz`)).json()).toEqual({ ok: true })
    expect(existsSync(db)).toBe(true)

    const owner = createTestDevice()
    const vault = createTestVault(owner)
    const conn = await mustConnect(http, owner, vault.vaultId)
    conn.send({ type: 'appendOp', op: vault.genesis.bytes })
    expect(await conn.waitFor('opResult')).toMatchObject({ code: '' })

    const exit = exited(relay.child)
    relay.child.kill('SIGTERM')
    expect(await conn.closed).toEqual({ code: 1001, reason: 'relay shutting down' })
    expect(await exit).toBe(0)
    const events = relay
      .stderr()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string })
      .map((e) => e.event)
    expect(events).toContain('relay.listening')
    expect(events).toContain('relay.stopped')
  })

  it('exits 2 with a clear message on a bad option', async () => {
    const relay = start(['--port', 'eighty'])
    const code = await exited(relay.child)
    expect(code).toBe(2)
    expect(relay.stderr()).toMatch(/--port must be a port number/)
    await relay.listening.catch(() => undefined)
  })
})
