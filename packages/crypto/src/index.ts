/**
 * mindsync cryptography: XChaCha20-Poly1305, Ed25519, X25519, sealed boxes,
 * HKDF, Argon2id and SHA-256, on native node:crypto under Node and on
 * @noble/* elsewhere.
 * @packageDocumentation
 */
import { backend } from '#backend'
import { createCrypto, type CryptoApi } from './api.js'

export * from './common.js'

const api = createCrypto(backend)

/** Which backend this entry point runs on: 'sodium' (libsodium and node:crypto), 'node' (node:crypto alone, where sodium-native does not load) or 'noble' (portable). */
export const backendName: CryptoApi['backendName'] = api.backendName

/**
 * Cryptographically secure random bytes, served from a pooled buffer; always a fresh copy.
 * @example
 * const epochKey = randomBytes(KEY_BYTES)
 */
export const randomBytes: CryptoApi['randomBytes'] = api.randomBytes

/**
 * Encrypts with XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) and returns ciphertext || tag.
 * @example
 * const nonce = randomBytes(NONCE_BYTES)
 * const sealed = aeadSeal(key, nonce, utf8.encode('calm'), headerBytes)
 */
export const aeadSeal: CryptoApi['aeadSeal'] = api.aeadSeal

/**
 * Decrypts ciphertext || tag; throws CryptoError E_DECRYPT when anything was altered.
 * @example
 * const plaintext = aeadOpen(key, nonce, sealed, headerBytes)
 */
export const aeadOpen: CryptoApi['aeadOpen'] = api.aeadOpen

/**
 * Creates an Ed25519 key pair; the secret key is the 32-byte seed.
 * @example
 * const { secretKey, publicKey } = generateSigningKeyPair()
 */
export const generateSigningKeyPair: CryptoApi['generateSigningKeyPair'] = api.generateSigningKeyPair

/** The Ed25519 public key of a 32-byte seed. */
export const signingPublicKey: CryptoApi['signingPublicKey'] = api.signingPublicKey

/**
 * Signs a message with Ed25519 (RFC 8032); prefer {@link createSigner} for many messages.
 * @example
 * const signature = sign(secretKey, message)
 */
export const sign: CryptoApi['sign'] = api.sign

/**
 * Verifies an Ed25519 signature strictly (RFC 8032, no ZIP-215); false on any bad signature or key.
 * @example
 * if (!verify(publicKey, message, signature)) reject()
 */
export const verify: CryptoApi['verify'] = api.verify

/**
 * Prepares a signing key once, for fast repeated signatures.
 * @example
 * const signer = createSigner(secretKey)
 * const signature = signer.sign(message)
 */
export const createSigner: CryptoApi['createSigner'] = api.createSigner

/**
 * Creates an X25519 key pair for key agreement.
 * @example
 * const { secretKey, publicKey } = generateDhKeyPair()
 */
export const generateDhKeyPair: CryptoApi['generateDhKeyPair'] = api.generateDhKeyPair

/** The X25519 public key of a 32-byte secret key. */
export const dhPublicKey: CryptoApi['dhPublicKey'] = api.dhPublicKey

/**
 * X25519 shared secret (RFC 7748); throws CryptoError E_WEAK_KEY if it would be all zero.
 * @example
 * const shared = x25519(mySecretKey, theirPublicKey)
 */
export const x25519: CryptoApi['x25519'] = api.x25519

/**
 * Encrypts to an X25519 public key: ephemeral key || nonce || ciphertext || tag.
 * @example
 * const lockbox = sealBox(device.dhPublicKey, epochKey, 'lockbox', opBytes)
 */
export const sealBox: CryptoApi['sealBox'] = api.sealBox

/**
 * Opens a sealed box; throws CryptoError E_DECRYPT on a wrong key, context or aad, or any change.
 * @example
 * const epochKey = openBox(myDhSecretKey, lockbox, 'lockbox', opBytes)
 */
export const openBox: CryptoApi['openBox'] = api.openBox

/**
 * HKDF-SHA256 (RFC 5869); `length` is 1 to 8160 bytes.
 * @example
 * const docKey = hkdfSha256(epochKey, undefined, 'mindsync/v1/doc-key', 32)
 */
export const hkdfSha256: CryptoApi['hkdfSha256'] = api.hkdfSha256

/** SHA-256 digest (FIPS 180-4). */
export const sha256: CryptoApi['sha256'] = api.sha256

/** HMAC-SHA256 (RFC 2104). */
export const hmacSha256: CryptoApi['hmacSha256'] = api.hmacSha256

/** Keyed BLAKE2b (RFC 7693) with a 16-byte output, under a 32-byte key: a MAC, one native call where libsodium loads. */
export const blake2bMac128: CryptoApi['blake2bMac128'] = api.blake2bMac128

/**
 * Domain-separated SHA-256 over a context and length-prefixed parts, so ('ab', 'c') and ('a', 'bc') differ.
 * @example
 * const deviceId = hashParts('mindsync/v1/device-id', devicePublicKey)
 */
export const hashParts: CryptoApi['hashParts'] = api.hashParts
