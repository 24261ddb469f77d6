import { hostname } from 'node:os'
import { recoverDevice } from '@mindsync/client'
import type { Command } from '../command.js'
import { UsageError } from '../errors.js'
import { checkRelayUrl, clientOptions, hasDevice, openClient, openHome } from '../home.js'

export const rotate: Command = {
  usage: 'mindsync rotate',
  summary: 'start a new key epoch now (admin); earlier entries stay readable',
  options: {},
  async run({ homeDir, out }) {
    const client = await openClient(openHome(homeDir))
    try {
      out(`rotated: epoch ${await client.rotate()}`)
    } finally {
      await client.close()
    }
  },
}

export const recoveryCreate: Command = {
  usage: 'mindsync recovery create',
  summary: 'make a recovery code (admin); shown once, replaces any earlier code',
  options: {},
  async run({ homeDir, out }) {
    const client = await openClient(openHome(homeDir))
    try {
      const code = await client.createRecoveryCode()
      out('Write this recovery code down and keep it offline. It is shown once; anyone holding it can join your vault.')
      out(code)
    } finally {
      await client.close()
    }
  },
}

export const recoveryUse: Command = {
  usage: 'mindsync recovery use CODE --relay URL [--name NAME]',
  summary: 'on a brand-new device: rejoin the vault with a recovery code',
  options: { relay: { type: 'string' }, name: { type: 'string' } },
  positionals: 1,
  async run({ values, positionals, homeDir, out }) {
    const code = positionals[0]
    if (!code) throw new UsageError('recovery use needs the recovery CODE')
    if (typeof values.relay !== 'string') throw new UsageError('recovery use needs --relay URL')
    const relay = checkRelayUrl(values.relay)
    if (hasDevice(homeDir)) {
      const existing = await openClient(openHome(homeDir))
      const member = existing.membership.self() !== undefined
      await existing.close()
      if (member) throw new UsageError('this home already holds a member device; use a new --home')
    }
    const home = openHome(homeDir)
    home.saveConfig({ ...home.config, relay })
    const client = await recoverDevice(code, clientOptions(home, { relay, name: typeof values.name === 'string' ? values.name : hostname() }))
    try {
      out(`recovered: device ${client.deviceId} joined vault ${client.vaultId} as admin.`)
      out('Run `mindsync sync` to fetch the journal, `mindsync devices signout-others` if the lost devices may be in wrong hands, and `mindsync recovery create` for a fresh code.')
    } finally {
      await client.close()
    }
  },
}
