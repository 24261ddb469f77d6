import { spawn, execFile } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const RELAY_MAIN = join(ROOT, 'apps/relay/dist/main.js')
export const CLI_MAIN = join(ROOT, 'apps/cli/dist/main.js')

/** A temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'mindsync-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export interface RelayProcess {
  url: string
  port: number
  db: string
  child: ChildProcess
  stderr(): string
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>
}

/** Starts the real relay daemon on loopback and waits for its "listening" line. */
export async function startRelay(db: string, port = 0, extra: string[] = []): Promise<RelayProcess> {
  const child = spawn(process.execPath, [RELAY_MAIN, '--host', '127.0.0.1', '--port', String(port), '--db', db, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let errText = ''
  child.stderr!.on('data', (c: Buffer) => {
    errText += c.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    let outText = ''
    const timer = setTimeout(() => reject(new Error(`relay did not start: ${errText}`)), 15_000)
    child.stdout!.on('data', (c: Buffer) => {
      outText += c.toString()
      const m = /listening on (ws:\/\/[^\s]+)/.exec(outText)
      if (m) {
        clearTimeout(timer)
        resolve(m[1] as string)
      }
    })
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}: ${errText}`)))
  })
  return {
    url,
    port: Number(new URL(url).port),
    db,
    child,
    stderr: () => errText,
    async stop() {
      child.kill('SIGTERM')
      return await exited
    },
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
  }
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
  /** The last non-empty line of stdout. */
  last: string
}

/** Runs the real `mindsync` CLI for one home folder. */
export function cli(home: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_MAIN, '--home', home, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      const lines = stdout.trim().split('\n')
      resolve({ code, stdout, stderr, last: lines[lines.length - 1] ?? '' })
    })
  })
}

/** Runs the CLI and fails with its output when it does not exit 0. */
export async function ok(home: string, args: string[]): Promise<CliResult> {
  const r = await cli(home, args)
  if (r.code !== 0) throw new Error(`mindsync ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  return r
}
