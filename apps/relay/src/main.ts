import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { createRelay, jsonLineLog } from '@mindsync/relay'
import { USAGE, parseRelayArgs } from './args.js'

async function main(): Promise<void> {
  const parsed = parseRelayArgs(process.argv.slice(2), process.env)
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE)
    return
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`mindsync-relay: ${parsed.message}\nRun "mindsync-relay --help" for the options.\n`)
    process.exit(2)
  }
  const { port, host, dbPath, registration, maxFrameBytes } = parsed.config
  const log = jsonLineLog(process.stderr)
  if (dbPath !== ':memory:') mkdirSync(dirname(resolve(dbPath)), { recursive: true })
  const relay = createRelay({ dbPath, host, port, registration, maxFrameBytes, log })
  const bound = await relay.listen()
  process.stdout.write(`mindsync-relay listening on ${bound.url} (db ${dbPath})\n`)

  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    log({ level: 'info', event: 'relay.signal', signal })
    relay.close().then(
      () => process.exit(0),
      (e: unknown) => {
        log({ level: 'error', event: 'relay.shutdown.failed', error: e })
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

main().catch((e: unknown) => {
  const err = e as NodeJS.ErrnoException
  const hint = err.code === 'EADDRINUSE' ? ' (the port is taken; choose another with --port)' : ''
  process.stderr.write(`mindsync-relay: ${err.message}${hint}\n`)
  process.exit(1)
})
