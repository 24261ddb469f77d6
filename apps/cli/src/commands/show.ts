import type { Command } from '../command.js'
import { openClient, openHome } from '../home.js'
import { openJournal } from '../journal.js'

export const show: Command = {
  usage: 'mindsync show [--json]',
  summary: 'print the journal (--json: stable, identical on converged devices)',
  options: { json: { type: 'boolean', default: false } },
  async run({ values, homeDir, out }) {
    const client = await openClient(openHome(homeDir))
    try {
      const journal = await openJournal(client)
      if (values.json) {
        out(JSON.stringify(journal.toJSON(), null, 2))
        return
      }
      const entries = journal.entries()
      if (entries.length === 0) out('no entries yet: `mindsync log session --minutes 10`')
      for (const e of entries) {
        if (e.type === 'session') out(`${e.start}  session  ${e.minutes} min  ${e.technique}${e.note ? `  — ${e.note}` : ''}`)
        else out(`${e.at}  check-in mood ${e.mood}${e.stress === null ? '' : ` stress ${e.stress}`}${e.note ? `  — ${e.note}` : ''}`)
      }
      const t = journal.totals()
      out(`total: ${t.sessions} sessions, ${t.minutes} min; ${t.checkins} check-ins${t.averageMood === null ? '' : `, mood ${t.averageMood}`}`)
    } finally {
      await client.close()
    }
  },
}
