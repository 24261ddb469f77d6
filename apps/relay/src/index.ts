/**
 * The mindsync relay daemon's option parsing, for tools that start it.
 * @example
 * const parsed = parseRelayArgs(['--port', '0'], process.env)
 */
export { USAGE, parseRelayArgs } from './args.js'
export type { ParsedArgs, RelayDaemonConfig } from './args.js'
