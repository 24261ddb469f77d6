import { parseArgs } from 'node:util'
import { isMindsyncError } from '@mindsync/client'
import { PracticeError } from '@mindsync/practice'
import type { Command } from './command.js'
import { devices, devicesRemove, devicesSignoutOthers } from './commands/devices.js'
import { recoveryCreate, recoveryUse, rotate } from './commands/keys.js'
import { init } from './commands/init.js'
import { logMood, logSession } from './commands/log.js'
import { pairAccept, pairOffer } from './commands/pair.js'
import { show } from './commands/show.js'
import { status } from './commands/status.js'
import { sync } from './commands/sync.js'
import { UsageError } from './errors.js'
import { resolveHome } from './home.js'
import { usePassphraseFile } from './passphrase.js'

const COMMANDS: Record<string, Command> = {
  init,
  'pair offer': pairOffer,
  'pair accept': pairAccept,
  'log session': logSession,
  'log mood': logMood,
  sync,
  show,
  devices,
  'devices remove': devicesRemove,
  'devices signout-others': devicesSignoutOthers,
  rotate,
  'recovery create': recoveryCreate,
  'recovery use': recoveryUse,
  status,
}

// A reader that stops early (`mindsync status | head -1`) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e
})
const out = (line: string): void => void process.stdout.write(`${line}\n`)
const err = (line: string): void => void process.stderr.write(`${line}\n`)

function help(): string {
  const lines = Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(72)} ${c.summary}`)
  return ['usage: mindsync [--home DIR] COMMAND [options]', '', 'commands:', ...lines, '', 'The home folder holds one device: --home DIR, else $MINDSYNC_HOME, else ~/.mindsync.',
    'Its keys can be wrapped with a passphrase: $MINDSYNC_PASSPHRASE or --passphrase-file FILE (asked on a terminal when needed).'].join('\n')
}

/** Finds the command: the longest run of leading words that names one. */
function findCommand(words: string[]): { name: string; command: Command; rest: string[] } | undefined {
  for (const n of [2, 1]) {
    const name = words.slice(0, n).join(' ')
    const command = COMMANDS[name]
    if (command && words.slice(0, n).every((w) => !w.startsWith('-'))) return { name, command, rest: words.slice(n) }
  }
  return undefined
}

async function main(argv: string[]): Promise<number> {
  let homeFlag: string | undefined
  const words: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--home') homeFlag = argv[++i]
    else if (a.startsWith('--home=')) homeFlag = a.slice(7)
    else if (a === '--passphrase-file') usePassphraseFile(argv[++i] ?? '')
    else if (a.startsWith('--passphrase-file=')) usePassphraseFile(a.slice(18))
    else words.push(a)
  }
  if (words.length === 0 || words[0] === '--help' || words[0] === 'help' || words[0] === '-h') {
    out(help())
    return words.length === 0 ? 2 : 0
  }
  const found = findCommand(words)
  if (!found) throw new UsageError(`unknown command "${words.slice(0, 2).join(' ')}"`)
  const { values, positionals } = parseArgs({
    args: found.rest,
    options: { ...found.command.options, help: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  })
  if (values.help) {
    out(`usage: ${found.command.usage}\n${found.command.summary}`)
    return 0
  }
  if (positionals.length > (found.command.positionals ?? 0)) throw new UsageError(`unexpected argument "${positionals[found.command.positionals ?? 0]}"`)
  const code = await found.command.run({ values: values as Record<string, string | boolean | undefined>, positionals, homeDir: resolveHome(homeFlag), out, err })
  return code ?? 0
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (e: unknown) => {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err(`mindsync: ${(e as Error).message}\nrun \`mindsync --help\` for usage`)
      process.exitCode = 2
    } else if (isMindsyncError(e) || e instanceof PracticeError) {
      err(`mindsync: ${e.message} (${e.code})`)
      process.exitCode = 1
    } else {
      err(`mindsync: unexpected error: ${(e as Error).stack ?? String(e)}`)
      process.exitCode = 1
    }
  },
)
