import { it } from 'vitest'
import { runMaliciousCase } from './maliciousCase.js'
it('one', async () => { await runMaliciousCase(JSON.parse(process.env.CASE!)) }, 120_000)
