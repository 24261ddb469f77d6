import { createMemoryStore } from './memoryStore.js'
import { runLocalStoreTests } from './testing/index.js'

// No reopen: memory does not outlive the store, so ST7 and the crash part
// of ST4 are skipped. No ST9: close() has nothing to release.
runLocalStoreTests('memory', async () => ({ store: createMemoryStore() }))
