/**
 * What a backend provides. Inputs are already validated (types and lengths)
 * by the public layer; a backend only computes.
 */
export interface Backend {
  /** Which implementation this is. */
  readonly name: 'node' | 'sodium' | 'noble'
  /** Fills `out` with cryptographically secure random bytes. */
  fillRandom(out: Uint8Array): void
  /** XChaCha20-Poly1305 encryption; returns ciphertext || tag. */
  aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array
  /** XChaCha20-Poly1305 decryption into `into` when given (checked to fit); `undefined` when authentication fails. */
  aeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array, into?: Uint8Array): Uint8Array | undefined
  /** Ed25519 public key of a 32-byte seed. */
  ed25519PublicKey(seed: Uint8Array): Uint8Array
  /** Ed25519 signature (RFC 8032 section 5.1.6). */
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array
  /** Prepares a signing function for repeated use of one seed. */
  ed25519Signer(seed: Uint8Array): (message: Uint8Array) => Uint8Array
  /** Strict RFC 8032 verification; never throws. */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean
  /** X25519 public key of a 32-byte secret. */
  x25519PublicKey(secretKey: Uint8Array): Uint8Array
  /** X25519 shared secret; `undefined` when it would be all zero (RFC 7748 section 6.1). */
  x25519(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array | undefined
  /** SHA-256 digest. */
  sha256(data: Uint8Array): Uint8Array
  /** HMAC-SHA256 (RFC 2104). */
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array
  /** Keyed BLAKE2b (RFC 7693) with a 16-byte output, a MAC in one pass (libsodium's crypto_generichash with a key); `key` is 32 bytes. */
  blake2bMac128(key: Uint8Array, data: Uint8Array): Uint8Array
  /** HKDF-SHA256 (RFC 5869); `length` is at most 255 * 32. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array | undefined, info: Uint8Array, length: number): Uint8Array
}
