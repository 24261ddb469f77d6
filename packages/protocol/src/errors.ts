/** Stable error codes shared by every mindsync package; see docs/errors.md. */
export type ErrorCode =
  | 'E_BAD_FRAME' // a frame, envelope or op could not be decoded
  | 'E_TOO_LARGE' // over a size limit
  | 'E_FORGED' // a signature does not verify
  | 'E_DECRYPT' // a body does not open under the epoch key
  | 'E_MISROUTED' // an envelope for another vault or doc
  | 'E_CHAIN' // a sequence number or previous hash does not follow
  | 'E_EQUIVOCATION' // two different envelopes with the same author and sequence
  | 'E_REPLAY' // an op or envelope seen before, sent again
  | 'E_NOT_MEMBER' // the author is not a member of the vault
  | 'E_REVOKED' // the author was removed
  | 'E_SCOPE' // the author lacks the scope for this action
  | 'E_UNKNOWN_EPOCH' // no key for the envelope's epoch
  | 'E_STALE_EPOCH' // sealed under an epoch a device removal closed; seal again under the current one
  | 'E_UNAUTHORIZED' // the relay refused the device's credentials
  | 'E_FORBIDDEN' // the relay refused the action
  | 'E_CONFLICT' // a membership op lost a race; re-read and retry
  | 'E_UNREACHABLE' // the relay cannot be reached
  | 'E_INVALID_INPUT' // a caller passed a bad argument
  | 'E_NOT_INITIALIZED' // the device has no vault yet
  | 'E_LOCKED' // the device's keys are wrapped with a passphrase that was not given, or not the right one
  | 'E_INTERNAL'

/** The one error type of mindsync: a stable `code`, a message that says what is wrong, and the field when there is one. */
export class MindsyncError extends Error {
  readonly code: ErrorCode
  readonly field: string | undefined
  constructor(code: ErrorCode, message: string, field?: string) {
    super(message)
    this.name = 'MindsyncError'
    this.code = code
    this.field = field
  }
}

/** True when `e` is a MindsyncError, optionally with the given code. */
export function isMindsyncError(e: unknown, code?: ErrorCode): e is MindsyncError {
  return e instanceof MindsyncError && (code === undefined || e.code === code)
}
