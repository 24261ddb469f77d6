import { configDefaults, defineConfig } from 'vitest/config'

// The malicious-relay properties find gaps in detection that are still open
// (issue 4: a fork of the membership log whose sides differ in length, and
// envelopes backdated with a removed device's stolen key). They run with
// `npm run test:adversary`; `npm test` says that it left them out.
const adversary = process.env.MINDSYNC_ADVERSARY === '1'

// Workspace packages resolve to their TypeScript sources ("source" export
// condition), so tests never run against a stale build.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: adversary ? ['test/property/malicious.property.test.ts'] : ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(adversary ? [] : ['test/property/malicious.property.test.ts'])],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
