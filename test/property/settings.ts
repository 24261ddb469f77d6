/**
 * fast-check settings from the environment, so a failure's printed seed and
 * path replay it, and a longer run is one variable away:
 *   MINDSYNC_PROPERTY_RUNS=2000 MINDSYNC_PROPERTY_SEED=123 npx vitest run test/property
 *   MINDSYNC_PROPERTY_SEED=312844146 MINDSYNC_PROPERTY_PATH=18 npx vitest run test/property
 */
export function propertySettings(defaultRuns: number): { numRuns: number; seed?: number; path?: string; endOnFailure: true } {
  const env = process.env
  return {
    numRuns: Number(env.MINDSYNC_PROPERTY_RUNS ?? defaultRuns),
    ...(env.MINDSYNC_PROPERTY_SEED ? { seed: Number(env.MINDSYNC_PROPERTY_SEED) } : {}),
    ...(env.MINDSYNC_PROPERTY_PATH ? { path: env.MINDSYNC_PROPERTY_PATH } : {}),
    endOnFailure: true,
  }
}
