// The backend `#backend` gives Node: libsodium for AEAD and Ed25519 where
// sodium-native loads (sodium.ts), OpenSSL alone where it does not.
import { backend as openssl } from './node.js'
import { loadSodium, sodiumBackend } from './sodium.js'
import type { Backend } from './types.js'

const sodium = loadSodium()

export const backend: Backend = sodium ? sodiumBackend(sodium) : openssl
