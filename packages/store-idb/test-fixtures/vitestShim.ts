// Stands in for 'vitest' inside the browser bundle (see browser.test.ts):
// the subset the LocalStore suite uses — describe, it with a context that
// can skip, and expect. expect is vitest's own (@vitest/expect on chai), so
// every matcher behaves as it does under vitest in Node.
import { JestAsymmetricMatchers, JestChaiExpect, JestExtend, chai } from '@vitest/expect'

chai.use(JestExtend)
chai.use(JestChaiExpect)
chai.use(JestAsymmetricMatchers)

/** One test's outcome, as the page hands it to Node. */
export interface TestResult {
  name: string
  status: 'passed' | 'failed' | 'skipped'
  ms: number
  /** The failure's message and stack, or the skip note. */
  detail?: string
}

interface TestContext {
  skip(note?: string): never
}
type TestBody = (t: TestContext) => unknown

class Skip extends Error {}

const tests: { name: string; body: TestBody; timeout: number }[] = []
const path: string[] = []

export const expect = (value: unknown, message?: string) => chai.expect(value, message)

export function describe(name: string, body: () => void): void {
  path.push(name)
  try {
    body()
  } finally {
    path.pop()
  }
}

export function it(name: string, body: TestBody, timeout = 60_000): void {
  tests.push({ name: [...path, name].join(' > '), body, timeout })
}
export { it as test }

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`test timed out after ${ms} ms`)), ms)
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}

const describeError = (e: unknown): string => (e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e))

/** Runs every registered test, one after the other, and reports each. */
export async function runRegistered(onResult?: (r: TestResult) => void): Promise<TestResult[]> {
  const results: TestResult[] = []
  for (const { name, body, timeout } of tests) {
    const context: TestContext = {
      skip(note) {
        throw new Skip(note ?? '')
      },
    }
    const start = performance.now()
    let result: TestResult
    try {
      await withTimeout(Promise.resolve().then(() => body(context)), timeout)
      result = { name, status: 'passed', ms: 0 }
    } catch (e) {
      result = e instanceof Skip ? { name, status: 'skipped', ms: 0, detail: e.message } : { name, status: 'failed', ms: 0, detail: describeError(e) }
    }
    result.ms = Math.round(performance.now() - start)
    results.push(result)
    onResult?.(result)
  }
  return results
}
