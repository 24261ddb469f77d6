import type { Command } from '../command.js'
import { openClient, openHome } from '../home.js'

export const status: Command = {
  usage: 'mindsync status',
  summary: 'show this device, its vault and its relay',
  options: {},
  async run({ homeDir, out }) {
    const home = openHome(homeDir)
    const client = await openClient(home)
    try {
      out(`device  ${client.deviceId} (${client.identity.name})`)
      out(`vault   ${client.vaultId ?? '(none yet)'}`)
      out(`relay   ${home.config.relay ?? '(none configured)'}`)
      out(`member  ${client.membership.self() ? 'yes' : 'no'}; ${client.membership.members().length} device(s), epoch ${client.membership.state?.epoch ?? '-'}`)
      const alerts = client.alerts()
      if (alerts.length === 0) out('alerts  none: the relay has not been caught withholding, rolling back or forking')
      else {
        out(`alerts  ${alerts.length}:`)
        for (const a of alerts) out(`  ${new Date(a.at).toISOString()}  ${a.kind.padEnd(12)} ${a.message}`)
      }
      return alerts.length > 0 ? 3 : 0
    } finally {
      await client.close()
    }
  },
}
