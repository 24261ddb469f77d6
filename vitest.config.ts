import { configDefaults, defineConfig } from 'vitest/config'

// `npm run test:adversary` (MINDSYNC_ADVERSARY=1) runs only the malicious-relay
// properties, for quick iterations on detection; `npm test` runs them with the rest.
const adversaryOnly = process.env.MINDSYNC_ADVERSARY === '1'

// Workspace packages resolve to their TypeScript sources ("source" export
// condition), so tests never run against a stale build.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: adversaryOnly ? ['test/property/malicious.property.test.ts'] : ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: [...configDefaults.exclude],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
