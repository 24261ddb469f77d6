import { describe, expect, it } from 'vitest'
// @ts-expect-error: the bench is plain ESM JavaScript without type declarations
import { claims } from '../../bench/lib/report.mjs'

// The four checks, as `npm run bench` prints them: each must say "not met"
// when mindsync loses, and a quick run must not pass itself off as the sizes.

type Row = { claim: string; ok: boolean; detail: string }
const run = (mindsync: Partial<Record<string, number>>, entries = 100_000) => [
  { system: 'mindsync', scenario: 'fanout-10-max', deliveredPerSec: mindsync.fanout ?? 70_000 },
  { system: 'y-websocket', scenario: 'fanout-10-max', deliveredPerSec: 30_000 },
  { system: 'hocuspocus', scenario: 'fanout-10-max', deliveredPerSec: 60_000 },
  { system: 'mindsync', scenario: 'fanout-10-fixed1000', p99Ms: mindsync.p99 ?? 9 },
  { system: 'y-websocket', scenario: 'fanout-10-fixed1000', p99Ms: 10 },
  { system: 'mindsync', scenario: 'initial-sync-100k', ms: mindsync.sync ?? 700, entries, snapshots: 1 },
  { system: 'y-websocket', scenario: 'initial-sync-100k', ms: 900, entries },
  { system: 'mindsync', scenario: 'relay-rss-100k', rssMB: mindsync.rss ?? 150 },
  { system: 'y-websocket', scenario: 'relay-rss-100k', rssMB: 160 },
  { system: 'hocuspocus', scenario: 'relay-rss-100k', rssMB: 230 },
]
const verdicts = (records: object[], quick = false) => (claims(records, { quick }).rows as Row[]).map((r) => r.ok)

describe('issue 6 checks (bench/lib/report.mjs)', () => {
  it('all met when mindsync wins every figure', () => {
    expect(verdicts(run({}))).toEqual([true, true, true, true])
  })

  it('each check fails on its own figure', () => {
    expect(verdicts(run({ fanout: 59_999 }))).toEqual([false, true, true, true]) // under 2x y-websocket
    expect(verdicts(run({ fanout: 65_000 }))[0]).toBe(true)
    expect(verdicts(run({ fanout: 65_000 }).map((r) => (r.system === 'hocuspocus' && r.scenario === 'fanout-10-max' ? { ...r, deliveredPerSec: 66_000 } : r)))[0]).toBe(false)
    expect(verdicts(run({ p99: 10.01 }))).toEqual([true, false, true, true])
    expect(verdicts(run({ p99: 10 }))[1]).toBe(true) // "no worse than"
    expect(verdicts(run({ sync: 901 }))).toEqual([true, true, false, true])
    expect(verdicts(run({ rss: 160 }))).toEqual([true, true, true, false]) // lower than both, strictly
  })

  it('a full run prints the verdicts as the issue words them', () => {
    const { markdown } = claims(run({ p99: 26.4 }))
    expect(markdown).toContain('| fan-out 10 at 1,000 updates/s: mindsync p99 ≤ y-websocket p99 | **not met** | 26.4 ms vs 10.0 ms |')
    expect(markdown).toContain('initial sync of 100,000 entries')
    expect(markdown).not.toContain('quick run')
  })

  it("names how many major collections of the devices' process fell in each system's window, when measured", () => {
    const records = run({ p99: 26.4 }).map((r) => (r.scenario === 'fanout-10-fixed1000' ? { ...r, clientsMajorGcs: r.system === 'mindsync' ? 4 : 1 } : r))
    expect(claims(records).markdown).toContain("| 26.4 ms vs 10.0 ms (devices' major collections in the window: 4 vs 1) |")
    expect(claims(run({ p99: 26.4 })).markdown).not.toContain('major collections')
  })

  it('a quick run names the counts it used and says the checks are judged on a full run', () => {
    const { markdown } = claims(run({ p99: 26.4 }, 5_000), { quick: true })
    expect(markdown).toContain('initial sync of 5,000 entries')
    expect(markdown).toContain('relay RSS serving the 5,000-entry journal')
    expect(markdown).toContain('judged on a full run')
    expect(markdown).toContain('| not met (quick run) |')
    expect(markdown).not.toContain('100,000')
  })
})
