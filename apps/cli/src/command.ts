import type { ParseArgsConfig } from 'node:util'

export interface CommandContext {
  values: Record<string, string | boolean | undefined>
  positionals: string[]
  homeDir: string
  out(line: string): void
  err(line: string): void
}

/** One CLI command: its usage line, its options (node:util parseArgs), and what it does. */
export interface Command {
  usage: string
  summary: string
  options: NonNullable<ParseArgsConfig['options']>
  /** How many positional arguments it takes. */
  positionals?: number
  run(ctx: CommandContext): Promise<number | void>
}
