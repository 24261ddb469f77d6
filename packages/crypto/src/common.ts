// Exports that do not depend on the backend, shared by both entry points.
export { argon2id, argon2idAsync, type Argon2idOptions } from './argon2.js'
export { concatBytes, constantTimeEqual, wipe } from './bytes.js'
export { KEY_BYTES, NONCE_BYTES, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, TAG_BYTES } from './constants.js'
export type { Signer, SigningKeyPair } from './ed25519.js'
export { fromBase64Url, fromHex, toBase64Url, toHex, utf8 } from './encoding.js'
export { CryptoError, type CryptoErrorCode } from './errors.js'
export type { DhKeyPair } from './x25519.js'
export type { CryptoApi } from './api.js'
