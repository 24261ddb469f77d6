import type { Command } from '../command.js'
import { UsageError } from '../errors.js'
import { openClient, openHome } from '../home.js'
import { openJournal } from '../journal.js'

function number(name: string, value: unknown): number {
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(Number(value))) {
    throw new UsageError(`--${name} must be a number, got "${String(value)}"`)
  }
  return Number(value)
}

const opt = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

export const logSession: Command = {
  usage: 'mindsync log session --minutes N [--technique T] [--note TEXT] [--start ISO]',
  summary: 'log a meditation session (works offline)',
  options: { minutes: { type: 'string' }, technique: { type: 'string' }, note: { type: 'string' }, start: { type: 'string' } },
  async run({ values, homeDir, out }) {
    if (values.minutes === undefined) throw new UsageError('log session needs --minutes N')
    const minutes = number('minutes', values.minutes)
    const client = await openClient(openHome(homeDir))
    try {
      const journal = await openJournal(client, { write: true })
      const s = journal.logSession({ minutes, technique: opt(values.technique), note: opt(values.note), start: opt(values.start) })
      await client.flush()
      out(`logged session ${s.id}: ${s.minutes} min ${s.technique} (sealed locally; \`mindsync sync\` sends it)`)
    } finally {
      await client.close()
    }
  },
}

export const logMood: Command = {
  usage: 'mindsync log mood --mood 1..5 [--stress 1..5] [--note TEXT] [--at ISO]',
  summary: 'log a mood and stress check-in (works offline)',
  options: { mood: { type: 'string' }, stress: { type: 'string' }, note: { type: 'string' }, at: { type: 'string' } },
  async run({ values, homeDir, out }) {
    if (values.mood === undefined) throw new UsageError('log mood needs --mood 1..5')
    const mood = number('mood', values.mood)
    const stress = values.stress === undefined ? null : number('stress', values.stress)
    const client = await openClient(openHome(homeDir))
    try {
      const journal = await openJournal(client, { write: true })
      const c = journal.logCheckin({ mood, stress, note: opt(values.note), at: opt(values.at) })
      await client.flush()
      out(`logged check-in ${c.id}: mood ${c.mood}${c.stress === null ? '' : `, stress ${c.stress}`} (sealed locally; \`mindsync sync\` sends it)`)
    } finally {
      await client.close()
    }
  },
}
