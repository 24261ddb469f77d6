/** Stable codes carried by every {@link CryptoError}. */
export type CryptoErrorCode = 'E_CRYPTO_INPUT' | 'E_DECRYPT' | 'E_WEAK_KEY'

/** The one error type of this package; `code` is stable, `message` is for people. */
export class CryptoError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: CryptoErrorCode

  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CryptoError'
    this.code = code
  }
}

/** Shorthand for the common case: a caller passed something unusable. */
export function inputError(message: string): CryptoError {
  return new CryptoError('E_CRYPTO_INPUT', message)
}
