import { parseArgs } from 'node:util'

/** The daemon's settings after reading the command line and the environment. */
export interface RelayDaemonConfig {
  port: number
  host: string
  dbPath: string
  registration: 'open' | 'closed'
  /** Largest WebSocket frame accepted, in bytes. */
  maxFrameBytes: number
}

export type ParsedArgs = { kind: 'run'; config: RelayDaemonConfig } | { kind: 'help' } | { kind: 'error'; message: string }

export const USAGE = `Usage: mindsync-relay [options]

Runs the blind mindsync relay: devices sync sealed envelopes through it;
it stores ciphertext in a SQLite file and can read none of it.

Options:
  --port <n>                 TCP port, 0 picks a free one (default 8787; env MINDSYNC_RELAY_PORT)
  --host <addr>              interface to listen on (default 127.0.0.1; env MINDSYNC_RELAY_HOST)
  --db <path>                SQLite file, its folder is created (default ./data/relay.db; env MINDSYNC_RELAY_DB)
  --registration open|closed whether devices may create new vaults (default open)
  --max-frame <size>         largest frame accepted, in bytes or with k/m (default 32m)
  -h, --help                 show this help
`

function parsePort(value: string, from: string): number | string {
  if (!/^\d+$/.test(value) || Number(value) > 65535) return `${from} must be a port number from 0 to 65535, got "${value}"`
  return Number(value)
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 * 1024 }

function parseSize(value: string): number | string {
  const m = /^(\d+)([km]?)$/i.exec(value)
  const n = m ? Number(m[1]) * (SIZE_UNITS[(m[2] as string).toLowerCase()] as number) : Number.NaN
  if (!(n >= 1024 && n <= 1024 * 1024 * 1024)) return `--max-frame must be a size from 1k to 1024m (e.g. 64m), got "${value}"`
  return n
}

/** Reads the daemon's options: command line first, then MINDSYNC_RELAY_* variables, then defaults. */
export function parseRelayArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): ParsedArgs {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        db: { type: 'string' },
        registration: { type: 'string' },
        'max-frame': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (e) {
    return { kind: 'error', message: (e as Error).message }
  }
  if (values.help) return { kind: 'help' }

  const portText = (values.port as string | undefined) ?? env.MINDSYNC_RELAY_PORT
  const port = portText === undefined ? 8787 : parsePort(portText, values.port !== undefined ? '--port' : 'MINDSYNC_RELAY_PORT')
  if (typeof port === 'string') return { kind: 'error', message: port }

  const host = (values.host as string | undefined) ?? env.MINDSYNC_RELAY_HOST ?? '127.0.0.1'
  if (host === '') return { kind: 'error', message: '--host must not be empty' }
  const dbPath = (values.db as string | undefined) ?? env.MINDSYNC_RELAY_DB ?? './data/relay.db'
  if (dbPath === '') return { kind: 'error', message: '--db must not be empty' }

  const registration = (values.registration as string | undefined) ?? 'open'
  if (registration !== 'open' && registration !== 'closed') {
    return { kind: 'error', message: `--registration must be "open" or "closed", got "${registration}"` }
  }
  const maxFrameBytes = parseSize((values['max-frame'] as string | undefined) ?? '32m')
  if (typeof maxFrameBytes === 'string') return { kind: 'error', message: maxFrameBytes }
  return { kind: 'run', config: { port, host, dbPath, registration, maxFrameBytes } }
}
