import { createAead, type Aead } from './aead.js'
import type { Backend } from './backends/types.js'
import { createBox, type Box } from './box.js'
import { createEd25519, type Ed25519 } from './ed25519.js'
import { createHashes, type Hashes } from './hash.js'
import { createHkdf } from './hkdf.js'
import { createRandomBytes } from './random.js'
import { createX25519, type X25519 } from './x25519.js'

/** Every backend-dependent function of the package, bound to one backend. */
export interface CryptoApi extends Aead, Ed25519, X25519, Box, Hashes {
  readonly backendName: Backend['name']
  randomBytes(length: number): Uint8Array
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array | undefined, info: Uint8Array | string, length: number): Uint8Array
}

/** Binds the public API to `backend`; the entry points and the tests call this. */
export function createCrypto(backend: Backend): CryptoApi {
  const randomBytes = createRandomBytes(backend.fillRandom)
  return {
    backendName: backend.name,
    randomBytes,
    ...createAead(backend),
    ...createEd25519(backend, randomBytes),
    ...createX25519(backend, randomBytes),
    ...createBox(backend, randomBytes),
    ...createHashes(backend),
    hkdfSha256: createHkdf(backend),
  }
}
