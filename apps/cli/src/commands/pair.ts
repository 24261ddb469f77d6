import { hostname } from 'node:os'
import { Scope } from '@mindsync/client'
import type { Command } from '../command.js'
import { UsageError } from '../errors.js'
import { checkRelayUrl, openClient, openHome } from '../home.js'

export const pairOffer: Command = {
  usage: 'mindsync pair offer --relay URL [--name NAME]',
  summary: 'on a new device: print a pairing code for a member to accept',
  options: { relay: { type: 'string' }, name: { type: 'string' } },
  async run({ values, homeDir, out }) {
    if (typeof values.relay !== 'string') throw new UsageError('pair offer needs --relay URL')
    const home = openHome(homeDir)
    home.saveConfig({ ...home.config, relay: checkRelayUrl(values.relay) })
    const client = await openClient(home, { name: typeof values.name === 'string' ? values.name : hostname() })
    try {
      const code = await client.createPairingOffer()
      out(`device ${client.deviceId}: on a member device run \`mindsync pair accept CODE\`, then \`mindsync sync\` here.`)
      out(code)
    } finally {
      await client.close()
    }
  },
}

const SCOPES: Record<string, number> = {
  read: Scope.read,
  write: Scope.read | Scope.write,
  admin: Scope.read | Scope.write | Scope.admin,
}

export const pairAccept: Command = {
  usage: 'mindsync pair accept CODE [--scope read|write|admin]',
  summary: 'on a member: admit the device that printed CODE (needs the relay)',
  options: { scope: { type: 'string', default: 'write' } },
  positionals: 1,
  async run({ values, positionals, homeDir, out }) {
    const code = positionals[0]
    if (!code) throw new UsageError('pair accept needs the pairing CODE printed by `mindsync pair offer`')
    const scopes = SCOPES[String(values.scope)]
    if (scopes === undefined) throw new UsageError(`--scope must be read, write or admin, got "${String(values.scope)}"`)
    const client = await openClient(openHome(homeDir))
    try {
      const id = await client.acceptPairing(code, scopes)
      out(`admitted device ${id} with scope ${String(values.scope)}; it joins on its next \`mindsync sync\``)
    } finally {
      await client.close()
    }
  },
}
