import { describe, expect, it } from 'vitest'
import { parseRelayArgs } from './args.js'

describe('mindsync-relay options', () => {
  it('has defaults', () => {
    expect(parseRelayArgs([])).toEqual({ kind: 'run', config: { port: 8787, host: '127.0.0.1', dbPath: './data/relay.db', registration: 'open', maxFrameBytes: 32 * 1024 * 1024 } })
  })

  it('reads the command line before the environment', () => {
    const env = { MINDSYNC_RELAY_PORT: '9000', MINDSYNC_RELAY_HOST: '0.0.0.0', MINDSYNC_RELAY_DB: '/var/lib/relay.db' }
    expect(parseRelayArgs([], env)).toMatchObject({ config: { port: 9000, host: '0.0.0.0', dbPath: '/var/lib/relay.db' } })
    expect(parseRelayArgs(['--port', '0', '--db', 'x.db', '--registration', 'closed', '--max-frame', '64m'], env)).toMatchObject({
      config: { port: 0, host: '0.0.0.0', dbPath: 'x.db', registration: 'closed', maxFrameBytes: 64 * 1024 * 1024 },
    })
  })

  it('explains bad options', () => {
    expect(parseRelayArgs(['--port', 'abc'])).toEqual({ kind: 'error', message: '--port must be a port number from 0 to 65535, got "abc"' })
    expect(parseRelayArgs([], { MINDSYNC_RELAY_PORT: '70000' })).toMatchObject({ kind: 'error', message: expect.stringMatching(/MINDSYNC_RELAY_PORT/) })
    expect(parseRelayArgs(['--registration', 'invite'])).toMatchObject({ kind: 'error', message: expect.stringMatching(/open" or "closed/) })
    expect(parseRelayArgs(['--nope'])).toMatchObject({ kind: 'error', message: expect.stringMatching(/--nope/) })
    expect(parseRelayArgs(['extra'])).toMatchObject({ kind: 'error' })
    expect(parseRelayArgs(['--max-frame', '12x'])).toMatchObject({ kind: 'error', message: expect.stringMatching(/--max-frame/) })
    expect(parseRelayArgs(['-h'])).toEqual({ kind: 'help' })
  })
})
