export { createIdbStore } from './idbStore.js'
export type { IdbStoreOptions } from './idbStore.js'
export { SCHEMA_VERSION } from './schema.js'
