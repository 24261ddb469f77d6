import type { Command } from '../command.js'
import { openClient, openHome } from '../home.js'

export const devices: Command = {
  usage: 'mindsync devices [--json]',
  summary: 'list the devices of the vault',
  options: { json: { type: 'boolean', default: false } },
  async run({ values, homeDir, out }) {
    const client = await openClient(openHome(homeDir))
    try {
      const list = client.devices().map((d) => ({ ...d, lastSeen: null as string | null }))
      if (values.json) {
        out(JSON.stringify(list, null, 2))
        return
      }
      for (const d of list) {
        out(`${d.self ? '*' : ' '} ${d.id}  ${d.name.padEnd(16)} ${d.scopes.join(',').padEnd(16)} added ${d.addedAt}${d.removedAt ? `  removed ${d.removedAt}` : ''}`)
      }
    } finally {
      await client.close()
    }
  },
}
