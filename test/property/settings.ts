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

/** A vitest time limit for a property test that grows with MINDSYNC_PROPERTY_RUNS (so a long run is not cut short). */
export function propertyTimeout(defaultRuns: number, perCaseMs: number): number {
  return Math.max(600_000, Number(process.env.MINDSYNC_PROPERTY_RUNS ?? defaultRuns) * perCaseMs)
}

/**
 * Runs a case; when it fails and MINDSYNC_PROPERTY_TRACE is set, prints what
 * the adversary did (with =frames, every frame), device ids replaced by names.
 */
export async function explainOnFailure(adv: { trace: string[] }, devices: readonly { name: string; client: { deviceId: string } }[], run: () => Promise<void>): Promise<void> {
  try {
    await run()
  } catch (e) {
    if (process.env.MINDSYNC_PROPERTY_TRACE) {
      let text = adv.trace.join('\n')
      for (const d of devices) text = text.split(d.client.deviceId.slice(0, 6)).join(d.name).split(d.client.deviceId.slice(0, 4)).join(d.name)
      console.error(`--- adversary trace (${devices.map((d) => `${d.name}=${d.client.deviceId.slice(0, 6)}`).join(' ')}) ---\n${text}\n--- end of trace ---`)
    }
    throw e
  }
}
