import type { Alert, Rejection, SyncClient } from '@mindsync/client'
import type { Journal } from '@mindsync/practice'
import type { Command } from '../command.js'
import { UsageError } from '../errors.js'
import { openClient, openHome } from '../home.js'
import { openJournal } from '../journal.js'
import { progressPrinter } from '../progress.js'

function summary(journal: Journal): string {
  const t = journal.totals()
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`
  return `${plural(t.sessions, 'session')} (${t.minutes} min), ${plural(t.checkins, 'check-in')}`
}

async function watch(client: SyncClient, out: (l: string) => void): Promise<number> {
  client.on('status', ({ status, error }) => out(`status: ${status}${error ? ` (${error.code}: ${error.message})` : ''}`))
  client.on('synced', ({ doc }) => out(`synced ${doc}`))
  client.connect()
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  return 0
}

export const sync: Command = {
  usage: 'mindsync sync [--watch] [--timeout SECONDS]',
  summary: 'push local entries and pull the others once (or stay connected with --watch)',
  options: { watch: { type: 'boolean', default: false }, timeout: { type: 'string', default: '30' } },
  async run({ values, homeDir, out, err }) {
    const home = openHome(homeDir)
    if (!home.config.relay) throw new UsageError('no relay configured for this home: run `mindsync init --relay URL` or `mindsync pair offer --relay URL`')
    const timeoutMs = Number(values.timeout) * 1000
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError(`--timeout must be a positive number of seconds, got "${String(values.timeout)}"`)
    const client = await openClient(home)
    const rejected: Rejection[] = []
    client.on('rejected', (r) => {
      rejected.push(r)
      err(`rejected ${r.origin === 'relay' ? 'by the relay' : 'from the relay'}: ${r.code}: ${r.message}`)
    })
    const tty = process.stderr.isTTY === true
    client.on('progress', progressPrinter((text) => (tty ? process.stderr.write(text) : err(text.trimEnd())), tty))
    const alerts: Alert[] = []
    client.on('alert', (a) => {
      alerts.push(a)
      err(`ALERT ${a.kind}: ${a.message}`)
    })
    try {
      const wasMember = client.membership.self() !== undefined
      let journal = wasMember ? await openJournal(client) : undefined
      if (values.watch) return await watch(client, out)
      await client.syncOnce({ timeoutMs })
      if (!journal) {
        out(`joined vault ${client.vaultId} as device ${client.deviceId}`)
        journal = await openJournal(client)
        await client.syncOnce({ timeoutMs })
      }
      out(`synced vault ${client.vaultId}: ${summary(journal)}`)
      if (alerts.length > 0) err(`the relay is not behaving honestly (${alerts.map((a) => a.kind).join(', ')}); local data is intact. See \`mindsync status\`.`)
      if (rejected.some((r) => r.origin === 'received')) err(`${rejected.length} envelope(s) were rejected; the rest was applied and local data is intact`)
      return alerts.length > 0 || rejected.some((r) => r.origin === 'received') ? 3 : 0
    } finally {
      await client.close()
    }
  },
}
