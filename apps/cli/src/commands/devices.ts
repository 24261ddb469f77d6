import type { Command } from '../command.js'
import { UsageError } from '../errors.js'
import { openClient, openHome } from '../home.js'

export const devices: Command = {
  usage: 'mindsync devices [--json]',
  summary: 'the device dashboard: names, scopes, who added them, when the relay last saw them',
  options: { json: { type: 'boolean', default: false } },
  async run({ values, homeDir, out, err }) {
    const client = await openClient(openHome(homeDir))
    try {
      let seen = new Map<string, number>()
      try {
        seen = await client.lastSeen()
      } catch (e) {
        err(`note: last-seen times unavailable (${(e as Error).message})`)
      }
      const list = client.devices(seen).filter((d) => d.removedAt === undefined)
      if (values.json) {
        out(JSON.stringify(list, null, 2))
        return
      }
      for (const d of list) {
        out(`${d.self ? '*' : ' '} ${d.id}  ${d.name.padEnd(14)} ${d.scopes.join(',').padEnd(16)} added ${d.addedAt} by ${d.addedBy.slice(0, 8)}  last seen ${d.lastSeen ?? 'never'}`)
      }
    } finally {
      await client.close()
    }
  },
}

export const devicesRemove: Command = {
  usage: 'mindsync devices remove ID',
  summary: 'remove a device (admin); starts a new key epoch it cannot read',
  options: {},
  positionals: 1,
  async run({ positionals, homeDir, out }) {
    const id = positionals[0]
    if (!id) throw new UsageError('devices remove needs the device ID (see `mindsync devices`)')
    const client = await openClient(openHome(homeDir))
    try {
      await client.removeDevice(id)
      out(`removed device ${id}; new epoch ${client.membership.state?.epoch}`)
    } finally {
      await client.close()
    }
  },
}

export const devicesSignoutOthers: Command = {
  usage: 'mindsync devices signout-others',
  summary: 'remove every device except this one (admin), and rotate keys',
  options: {},
  async run({ homeDir, out }) {
    const client = await openClient(openHome(homeDir))
    try {
      const removed = await client.signOutOthers()
      if (removed.length === 0) await client.rotate()
      out(`signed out ${removed.length} device(s)${removed.length ? `: ${removed.join(', ')}` : ''}; epoch ${client.membership.state?.epoch}`)
    } finally {
      await client.close()
    }
  },
}
