/**
 * The same API as the package root, always on the portable @noble/* backend
 * (no node:* imports), whatever the runtime.
 * @packageDocumentation
 */
import { createCrypto, type CryptoApi } from './api.js'
import { backend } from './backends/noble.js'

export * from './common.js'

const api = createCrypto(backend)

/** Always 'noble' for this entry point. */
export const backendName: CryptoApi['backendName'] = api.backendName
/** Secure random bytes from a pooled buffer; always a fresh copy. */
export const randomBytes: CryptoApi['randomBytes'] = api.randomBytes
/** XChaCha20-Poly1305 encryption; returns ciphertext || tag. */
export const aeadSeal: CryptoApi['aeadSeal'] = api.aeadSeal
/** XChaCha20-Poly1305 decryption; throws CryptoError E_DECRYPT when anything was altered. */
export const aeadOpen: CryptoApi['aeadOpen'] = api.aeadOpen
/** Creates an Ed25519 key pair (secret key = 32-byte seed). */
export const generateSigningKeyPair: CryptoApi['generateSigningKeyPair'] = api.generateSigningKeyPair
/** The Ed25519 public key of a 32-byte seed. */
export const signingPublicKey: CryptoApi['signingPublicKey'] = api.signingPublicKey
/** Ed25519 signature (RFC 8032). */
export const sign: CryptoApi['sign'] = api.sign
/** Strict Ed25519 verification (RFC 8032, no ZIP-215); never throws on a bad signature. */
export const verify: CryptoApi['verify'] = api.verify
/** Prepares a signing key for repeated signatures. */
export const createSigner: CryptoApi['createSigner'] = api.createSigner
/** Creates an X25519 key pair. */
export const generateDhKeyPair: CryptoApi['generateDhKeyPair'] = api.generateDhKeyPair
/** The X25519 public key of a 32-byte secret key. */
export const dhPublicKey: CryptoApi['dhPublicKey'] = api.dhPublicKey
/** X25519 shared secret; throws CryptoError E_WEAK_KEY if it would be all zero. */
export const x25519: CryptoApi['x25519'] = api.x25519
/** Encrypts to an X25519 public key (sealed box). */
export const sealBox: CryptoApi['sealBox'] = api.sealBox
/** Opens a sealed box; throws CryptoError E_DECRYPT on any mismatch or change. */
export const openBox: CryptoApi['openBox'] = api.openBox
/** HKDF-SHA256 (RFC 5869). */
export const hkdfSha256: CryptoApi['hkdfSha256'] = api.hkdfSha256
/** SHA-256 digest. */
export const sha256: CryptoApi['sha256'] = api.sha256
/** HMAC-SHA256. */
export const hmacSha256: CryptoApi['hmacSha256'] = api.hmacSha256
/** Keyed BLAKE2b with a 16-byte output, under a 32-byte key. */
export const blake2bMac128: CryptoApi['blake2bMac128'] = api.blake2bMac128
/** Domain-separated SHA-256 over a context and length-prefixed parts. */
export const hashParts: CryptoApi['hashParts'] = api.hashParts
