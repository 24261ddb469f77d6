import type { LocalStore } from '../localStore.js'
import { envelopeView, hexOf, outboxView } from './bytes.js'

/** What an adapter's setup hands the conformance suite: a fresh, empty store. */
export interface LocalStoreTestSetup {
  store: LocalStore
  /**
   * Opens the same data again, as an app starting after a restart would.
   * The suite may call it while earlier stores are still open, to stand for
   * a crash that left no time to close them. Without it, the rules that
   * need a restart (parts of ST4, ST8 and ST13, all of ST7) are skipped.
   */
  reopen?: () => Promise<LocalStore>
  /** Frees what setup made (files, folders); called after the suite closed every store it opened. */
  teardown?: () => Promise<void>
  /** True when the adapter implements ST9 (calls after close() fail); otherwise ST9 is skipped. */
  closes?: boolean
}

/** One test's view of the adapter: the current store, and a way to restart it. */
export interface Harness {
  store: LocalStore
  readonly canReopen: boolean
  readonly closes: boolean
  /** Opens the data again and makes the result the current store; earlier stores stay open. */
  reopen(): Promise<LocalStore>
}

/**
 * Runs `body` against a fresh store, then closes every store it opened and
 * tears the setup down, even when the body failed or skipped. A failure of
 * the body wins over a failure of the clean-up.
 */
export async function withStore(setup: () => Promise<LocalStoreTestSetup>, body: (h: Harness) => Promise<void>): Promise<void> {
  const ctx = await setup()
  const opened: LocalStore[] = [ctx.store]
  const h: Harness = {
    store: ctx.store,
    canReopen: ctx.reopen !== undefined,
    closes: ctx.closes === true,
    async reopen() {
      if (!ctx.reopen) throw new Error('this adapter gave no reopen()')
      const store = await ctx.reopen()
      opened.push(store)
      h.store = store
      return store
    },
  }
  let failure: { error: unknown } | undefined
  try {
    await body(h)
  } catch (error) {
    failure = { error }
  }
  try {
    for (const store of opened) await store.close()
    await ctx.teardown?.()
  } catch (error) {
    failure ??= { error }
  }
  if (failure) throw failure.error
}

/** Everything a store holds for the given meta keys and docs, in a form `toEqual` compares. */
export async function snapshot(store: LocalStore, metaKeys: string[], docs: string[]) {
  const meta: Record<string, string | null> = {}
  for (const k of metaKeys) {
    const v = await store.getMeta(k)
    meta[k] = v === undefined ? null : hexOf(v)
  }
  const byDoc: Record<string, unknown> = {}
  for (const d of docs) {
    byDoc[d] = {
      envelopes: (await store.listEnvelopes(d)).map(envelopeView),
      outbox: (await store.listOutbox(d)).map(outboxView),
      cursor: await store.getCursor(d),
    }
  }
  return { meta, ops: (await store.listOps()).map(hexOf), docs: byDoc }
}
