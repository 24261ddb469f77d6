// Both backends behind the same public layer, for describe.each.
import { createCrypto, type CryptoApi } from '../api.js'
import { backend as nodeBackend } from '../backends/node.js'
import { backend as nobleBackend } from '../backends/noble.js'

export const nodeApi = createCrypto(nodeBackend)
export const nobleApi = createCrypto(nobleBackend)
export const apis: ReadonlyArray<readonly [string, CryptoApi]> = [
  ['node', nodeApi],
  ['noble', nobleApi],
]
