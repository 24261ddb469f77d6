import fc from 'fast-check'
import { it } from 'vitest'
import { maliciousCaseArb, backdateCaseArb, runMaliciousCase, effectiveAttacks } from './maliciousCase.js'
it('survey', async () => {
  const arb = process.env.SURVEY === 'backdate' ? backdateCaseArb : maliciousCaseArb
  const cases = fc.sample(arb, { numRuns: Number(process.env.N ?? 200), seed: Number(process.env.S ?? 1) })
  const cats = new Map<string, { n: number; ex: string }>()
  const t0 = Date.now()
  let slow = 0
  for (const c of cases) {
    const t = Date.now()
    try { await runMaliciousCase(c) } catch (e) {
      const m = String((e as Error).message).replace(/\(.*?\)/g, '()').replace(/alerts: [\s\S]*/, '').slice(0, 140)
      const key = `${c.attack.kind}: ${m}`
      const cur = cats.get(key) ?? { n: 0, ex: JSON.stringify(c) }
      cur.n++
      cats.set(key, cur)
    }
    if (Date.now() - t > 2000) slow++
  }
  console.log('total ms', Date.now() - t0, 'slow', slow, effectiveAttacks)
  for (const [k, v] of cats) console.log(v.n, k, '\n   ', v.ex)
}, 1_800_000)
