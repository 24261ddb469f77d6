import { hostname } from 'node:os'
import type { Command } from '../command.js'
import { UsageError } from '../errors.js'
import { checkRelayUrl, hasDevice, openClient, openHome } from '../home.js'

export const init: Command = {
  usage: 'mindsync init --relay URL [--name NAME]',
  summary: 'create this device and a new vault; prints the vault id',
  options: { relay: { type: 'string' }, name: { type: 'string' } },
  async run({ values, homeDir, out }) {
    if (typeof values.relay !== 'string') throw new UsageError('init needs --relay URL, e.g. --relay ws://127.0.0.1:8787')
    const relay = checkRelayUrl(values.relay)
    if (hasDevice(homeDir)) {
      const home = openHome(homeDir)
      const client = await openClient(home)
      try {
        if (client.vaultId) throw new UsageError(`this home already holds a device in vault ${client.vaultId}; use another --home`)
      } finally {
        await client.close()
      }
    }
    const home = openHome(homeDir)
    home.saveConfig({ ...home.config, relay })
    const client = await openClient(home, { name: typeof values.name === 'string' ? values.name : hostname() })
    try {
      const vaultId = await client.createVault()
      out(`device ${client.deviceId} created vault; run \`mindsync sync\` to register it with the relay`)
      out(vaultId)
    } finally {
      await client.close()
    }
  },
}
