/** Length of a symmetric key (XChaCha20-Poly1305, epoch keys). */
export const KEY_BYTES = 32
/** Length of an XChaCha20-Poly1305 nonce (192 bits: safe to pick at random). */
export const NONCE_BYTES = 24
/** Length of a Poly1305 authentication tag. */
export const TAG_BYTES = 16
/** Length of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64
/** Length of an Ed25519 or X25519 public key (and of their secret keys). */
export const PUBLIC_KEY_BYTES = 32
