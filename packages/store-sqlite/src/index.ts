export { createSqliteStore } from './sqliteStore.js'
export type { SqliteStoreOptions } from './sqliteStore.js'
export { SCHEMA_VERSION } from './schema.js'
