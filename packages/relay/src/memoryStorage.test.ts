import { createMemoryRelayStorage } from './memoryStorage.js'
import { runRelayStorageTests } from './testing/index.js'

runRelayStorageTests('memory', async () => ({ storage: createMemoryRelayStorage() }))
