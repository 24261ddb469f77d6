import { readFileSync } from 'node:fs'
import { UsageError } from './errors.js'

let fromFile: string | undefined

/** --passphrase-file FILE: the first line of FILE. */
export function usePassphraseFile(path: string): void {
  try {
    fromFile = readFileSync(path, 'utf8').split(/\r?\n/)[0] ?? ''
  } catch (e) {
    throw new UsageError(`--passphrase-file: cannot read ${path}: ${(e as Error).message}`)
  }
  if (fromFile === '') throw new UsageError(`--passphrase-file: ${path} is empty`)
}

/** The passphrase that wraps this device's keys: --passphrase-file, else MINDSYNC_PASSPHRASE, else none. */
export function givenPassphrase(): string | undefined {
  return fromFile ?? (process.env.MINDSYNC_PASSPHRASE || undefined)
}

/** Asks on the terminal without echo; undefined when there is no terminal. */
export async function askPassphrase(prompt = 'passphrase for this device: '): Promise<string | undefined> {
  const stdin = process.stdin
  if (!stdin.isTTY || !process.stderr.isTTY) return undefined
  process.stderr.write(prompt)
  stdin.setRawMode(true)
  stdin.resume()
  let typed = ''
  try {
    return await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData)
            resolve(typed)
            return
          }
          if (ch === '\u0003') {
            stdin.off('data', onData)
            reject(new UsageError('cancelled'))
            return
          }
          if (ch === '\u007f') typed = typed.slice(0, -1)
          else typed += ch
        }
      }
      stdin.on('data', onData)
    })
  } finally {
    stdin.setRawMode(false)
    stdin.pause()
    process.stderr.write('\n')
  }
}
