/**
 * The blind mindsync relay as a library: authenticates devices by key,
 * checks membership from the signed membership log, stores sealed envelopes
 * in an append-only log per doc, acknowledges after the commit, fans out and
 * serves catch-up. It never sees plaintext or keys.
 * @packageDocumentation
 */

/**
 * The relay server (HTTP + WebSocket) around the core.
 * @example
 * const relay = createRelay({ dbPath: './data/relay.db', port: 8787 })
 * const { url } = await relay.listen() // ws://127.0.0.1:8787
 */
export { createRelay, parseSyncParams } from './server.js'
export type { Relay, RelayOptions, UpgradeRefusal } from './server.js'

/**
 * The transport-independent core, for other transports and for tests.
 * @example
 * const core = createRelayCore({ storage: createMemoryRelayStorage() })
 */
export { createRelayCore } from './core.js'
export type { RelayCore, RelayCoreOptions, SessionHandlers } from './core.js'
export type { AuthRequest, AuthResult, AuthStatus, RelayAuth } from './auth.js'
export type { Peer } from './outbox.js'

/**
 * The storage interface and its two implementations.
 * @example
 * const storage = createSqliteRelayStorage('./data/relay.db', { synchronous: 'full' })
 */
export type { BaseSnapshot, EnvelopeRecord, RelayStorage, StoredItem } from './storage.js'
export { createSqliteRelayStorage, SQLITE_SCHEMA_VERSION } from './sqliteStorage.js'
export type { SqliteRelayStorageOptions } from './sqliteStorage.js'
export { createMemoryRelayStorage } from './memoryStorage.js'

/**
 * Limits and logging.
 * @example
 * createRelay({ limits: { maxEnvelopeBytes: 1 << 20 }, log: jsonLineLog(process.stderr) })
 */
export { DEFAULT_LIMITS, resolveLimits } from './limits.js'
export type { RelayLimits } from './limits.js'
export { jsonLineLog, silentLog } from './log.js'
export type { RelayLog, RelayLogEntry } from './log.js'

/**
 * Challenges (exported for other transports).
 * @example
 * const challenges = createChallenges({ now: Date.now })
 */
export { CHALLENGE_BYTES, createChallenges } from './challenge.js'
export type { ChallengeOptions, ChallengeProblem, Challenges } from './challenge.js'
