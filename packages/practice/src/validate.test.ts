import { describe, expect, it } from 'vitest'
import { PracticeError, validateCheckin, validateSession } from './index.js'

const session = {
  id: '018f2b3c4d5e0123456789abcdef',
  start: '2024-05-01T07:30:00.000Z',
  minutes: 20,
  technique: 'breath',
  note: '',
  device: 'phone',
  createdAt: '2024-05-01T07:50:00.000Z',
}
const checkin = {
  id: '018f2b3c4d5e0123456789abcdef',
  at: '2024-05-01T07:30:00.000Z',
  mood: 4,
  stress: null,
  note: '',
  createdAt: '2024-05-01T07:50:00.000Z',
}
const now = new Date('2024-05-02T00:00:00.000Z')

function rejects(fn: () => unknown, field: string, message?: RegExp): void {
  let error: unknown
  try {
    fn()
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(PracticeError)
  const e = error as PracticeError
  expect(e.code).toBe('E_INVALID')
  expect(e.field).toBe(field)
  expect(e.message.startsWith(field)).toBe(true)
  if (message) expect(e.message).toMatch(message)
}

describe('validateSession', () => {
  it('accepts a complete session and normalizes it', () => {
    const s = validateSession({ ...session, start: '2024-05-01T09:30+02:00', technique: '  breath ' })
    expect(s).toEqual({ ...session, technique: 'breath' })
    expect(Object.isFrozen(s)).toBe(true)
  })

  it('keeps only known fields and omits a missing device', () => {
    const { device: _, ...rest } = session
    const s = validateSession({ ...rest, future: 1 })
    expect(Object.keys(s)).toEqual(['id', 'start', 'minutes', 'technique', 'note', 'createdAt'])
  })

  it.each([
    ['id', 'abc', /28 lowercase hex digits.*got "abc"/],
    ['id', '018F2B3C4D5E0123456789ABCDEF', /lowercase/],
    ['start', 'yesterday', /ISO 8601.*got "yesterday"/],
    ['start', '2024-02-30T00:00:00Z', /real calendar date/],
    ['start', '2024-05-01T10:00', /ISO 8601/],
    ['start', '1999-12-31T23:59:59.999Z', /on or after 2000-01-01/],
    ['start', new Date(Number.NaN), /valid date.*invalid Date/],
    ['start', 1714548600000, /Date or an ISO 8601 string, got 1714548600000/],
    ['minutes', -5, /^minutes must be a number greater than 0 and at most 1440, got -5$/],
    ['minutes', 0, /got 0$/],
    ['minutes', 1440.01, /at most 1440/],
    ['minutes', Number.NaN, /got NaN/],
    ['minutes', Number.POSITIVE_INFINITY, /got Infinity/],
    ['minutes', '20', /got "20"/],
    ['minutes', 2.345, /at most 2 decimal places, got 2.345/],
    ['technique', '   ', /not blank/],
    ['technique', 'x'.repeat(65), /got 65 characters/],
    ['technique', 'a\nb', /control characters, got U\+000A/],
    ['technique', 7, /got 7/],
    ['note', 'x'.repeat(4001), /at most 4000 characters, got 4001 characters/],
    ['note', 'bell\u0007', /other than tab and newline, got U\+0007 at position 4/],
    ['note', 'cr\r\n', /U\+000D/],
    ['note', 'half \ud800 pair', /lone surrogate at position 5/],
    ['note', null, /got null/],
    ['device', '', /1 to 128 characters/],
    ['device', 'd'.repeat(129), /got 129 characters/],
    ['createdAt', 'soon', /ISO 8601/],
  ])('rejects %s = %j', (field, value, message) => {
    rejects(() => validateSession({ ...session, [field]: value }), field, message)
  })

  it('names a missing required field', () => {
    for (const field of ['id', 'start', 'minutes', 'technique', 'note', 'createdAt']) {
      const copy: Record<string, unknown> = { ...session }
      delete copy[field]
      rejects(() => validateSession(copy), field, /got undefined$/)
    }
  })

  it('rejects a non-object', () => {
    for (const value of [null, 5, 'x', [session]]) rejects(() => validateSession(value), 'session')
  })

  it('does not echo note text in messages', () => {
    let message = ''
    try {
      validateSession({ ...session, note: `secret diary ${'x'.repeat(4000)}` })
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).not.toContain('secret')
  })

  it('allows tab, newline and text outside the BMP in notes', () => {
    const note = 'line 1\n\tline 2 🧘'
    expect(validateSession({ ...session, note }).note).toBe(note)
    expect(validateSession({ ...session, technique: '🧘'.repeat(64) }).technique).toHaveLength(128)
  })

  it('applies the future bound only when given a clock', () => {
    const late = { ...session, start: '2024-05-03T00:00:00.001Z' }
    expect(validateSession(late).start).toBe(late.start)
    rejects(() => validateSession(late, { now }), 'start', /at most one day after the current time/)
    expect(validateSession({ ...late, start: '2024-05-03T00:00:00.000Z' }, { now }).minutes).toBe(20)
  })

  it('reads own properties only', () => {
    const hostile = Object.create({ ...session }) as object
    rejects(() => validateSession(hostile), 'id')
  })
})

describe('validateCheckin', () => {
  it('accepts a complete check-in', () => {
    expect(validateCheckin(checkin)).toEqual(checkin)
    expect(validateCheckin({ ...checkin, stress: 5 }).stress).toBe(5)
  })

  it.each([
    ['mood', 0, /^mood must be an integer from 1 to 5, got 0$/],
    ['mood', 6, /got 6/],
    ['mood', 2.5, /got 2.5/],
    ['mood', undefined, /got undefined/],
    ['stress', 0, /^stress must be an integer from 1 to 5 or null, got 0$/],
    ['stress', undefined, /got undefined/],
    ['stress', '3', /got "3"/],
    ['at', '2024-13-01', /real calendar date/],
    ['note', 5, /got 5/],
  ])('rejects %s = %j', (field, value, message) => {
    rejects(() => validateCheckin({ ...checkin, [field]: value }), field, message)
  })
})

describe('__proto__ fields', () => {
  it('are refused so that writer and readers agree', () => {
    const withProto = JSON.parse(`{"__proto__": {}, ${JSON.stringify(session).slice(1)}`) as unknown
    rejects(() => validateSession(withProto), 'session', /__proto__/)
  })
})
