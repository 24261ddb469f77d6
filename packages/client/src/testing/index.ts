import { describe } from 'vitest'
import { compactRules } from './compactRules.js'
import { docRules } from './docRules.js'
import type { LocalStoreTestSetup } from './harness.js'
import { lifecycleRules } from './lifecycleRules.js'
import { metaAndOpsRules } from './metaAndOpsRules.js'

export type { LocalStoreTestSetup } from './harness.js'
export { testBytes } from './bytes.js'

/**
 * The LocalStore conformance suite: every adapter runs it. `setup` is
 * called once per test and must return a fresh, empty store. Rules carry
 * stable ids (ST1, ST2, …) listed in the package's SPEC.md.
 * @example
 * runLocalStoreTests('sqlite', async () => {
 *   const dir = mkdtempSync(join(tmpdir(), 'store-'))
 *   const path = join(dir, 'device.db')
 *   return {
 *     store: createSqliteStore(path),
 *     reopen: async () => createSqliteStore(path),
 *     teardown: async () => rmSync(dir, { recursive: true }),
 *     closes: true,
 *   }
 * })
 */
export function runLocalStoreTests(name: string, setup: () => Promise<LocalStoreTestSetup>): void {
  describe(`LocalStore conformance: ${name}`, () => {
    metaAndOpsRules(setup)
    docRules(setup)
    compactRules(setup)
    lifecycleRules(setup)
  })
}
