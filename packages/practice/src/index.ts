export { PracticeError, type PracticeErrorCode } from './errors.js'
export { createJournal, type Journal, type JournalOptions } from './journal.js'
export { validateCheckin, validateSession, type ValidateOptions } from './validate.js'
export { DEFAULT_TECHNIQUE, LIMITS } from './fields.js'
export { isEntryId } from './ids.js'
export type {
  Checkin,
  CheckinInput,
  Entry,
  InvalidEntry,
  Session,
  SessionInput,
  TimeRange,
  Totals,
} from './types.js'
