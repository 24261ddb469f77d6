// Both backends behind the same public layer, for describe.each.
import { createCrypto, type CryptoApi } from '../api.js'
import { backend as nodeBackend } from '../backends/node.js'
import { backend as nobleBackend } from '../backends/noble.js'
import { loadSodium, sodiumBackend } from '../backends/sodium.js'

const sodium = loadSodium()
// sodium-native is an optional dependency, but the tests need it: they check what Node runs on.
if (!sodium) throw new Error('sodium-native did not load: run the set-up (npm test installs it)')

export const nodeApi = createCrypto(nodeBackend)
export const sodiumApi = createCrypto(sodiumBackend(sodium))
export const nobleApi = createCrypto(nobleBackend)
export const apis: ReadonlyArray<readonly [string, CryptoApi]> = [
  ['node', nodeApi],
  ['sodium', sodiumApi],
  ['noble', nobleApi],
]
