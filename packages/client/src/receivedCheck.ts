import { toHex } from '@mindsync/crypto'
import { EnvelopeKind, Scope, hasScope, isMindsyncError, openEnvelope, sameBytes } from '@mindsync/protocol'
import type { Envelope, ErrorCode } from '@mindsync/protocol'
import type { Alert } from './alerts.js'
import type { ChainTracker } from './chain.js'
import type { Membership } from './membership.js'
import { decodeSnapshotBody } from './snapshotBody.js'
import type { Decoded } from './vouch.js'

/** Envelope kinds whose body is a Yjs update: an update, or a snapshot's whole state. */
export const CONTENT_KINDS = new Set<number>([EnvelopeKind.update, EnvelopeKind.snapshot])

/** The Yjs update an update or snapshot envelope carries, from its opened body. */
export function contentOf(env: Envelope, plaintext: Uint8Array): Uint8Array {
  return env.header.kind === EnvelopeKind.snapshot ? decodeSnapshotBody(plaintext) : plaintext
}

/** Why a received envelope is refused. */
export interface Refusal {
  code: ErrorCode
  message: string
  author?: string
  seq?: number
}

/** A received envelope that passed every check; `plaintext` is its content (none for awareness). */
export interface Accepted {
  env: Envelope
  hash: Uint8Array
  plaintext?: Uint8Array
}

/** The doc a received envelope is checked for. */
export interface CheckScope {
  name: string
  docId: Uint8Array
  /** Hex doc id, the key of removal heads. */
  key: string
  membership: Membership
  chains: ChainTracker
  alert(alert: Omit<Alert, 'at'>): void
}

/**
 * The checks a received envelope passes before it is applied, in order:
 * vault and doc, membership, removal, scope, authenticity (`authentic`: a
 * receiver tag for this device checked, the signature verified, or a later
 * envelope of the author vouches for this one, vouch.ts), the author's
 * chain, a snapshot's covers, then the epoch key that opens it. Changes no
 * state; a snapshot covering another envelope than the one this device
 * holds also raises a fork alert.
 */
export function checkReceived(scope: CheckScope, { env, hash, author }: Decoded, authentic: boolean): 'duplicate' | Refusal | Accepted {
  const h = env.header
  const where = { author, seq: h.seq }
  const { membership } = scope
  if (!sameBytes(h.vaultId, membership.state?.vaultId ?? new Uint8Array(0)) || !sameBytes(h.docId, scope.docId)) {
    return { code: 'E_MISROUTED', message: 'envelope belongs to another vault or doc', ...where }
  }
  const member = membership.member(h.deviceId, author)
  if (!member) return { code: 'E_NOT_MEMBER', message: `author ${author} is not a member of this vault`, ...where }
  if (member.removedIndex !== undefined) {
    const removedAtEpoch = membership.ops[member.removedIndex]?.epoch ?? 0
    if (h.epoch >= removedAtEpoch) return { code: 'E_REVOKED', message: `author ${author} was removed before epoch ${h.epoch}`, ...where }
  }
  if (!hasScope(member, Scope.write)) return { code: 'E_SCOPE', message: `author ${author} may only read`, ...where }
  if (!authentic) return { code: 'E_FORGED', message: `signature of ${author} seq ${h.seq} does not verify: modified or forged`, ...where }
  const last = member.removedIndex === undefined ? undefined : membership.removalHeads(h.deviceId)?.[scope.key]
  if (last && h.seq > last[0]) return { code: 'E_REVOKED', message: `author ${author} was removed after its envelope ${last[0]}; seq ${h.seq} came later`, ...where }
  if (last && h.seq === last[0] && toHex(hash) !== last[1]) {
    return { code: 'E_EQUIVOCATION', message: `envelope ${h.seq} of removed author ${author} is not the one its removal recorded`, ...where }
  }
  const verdict = scope.chains.check(author, h.seq, h.prevHash, hash)
  if (!verdict.ok) return { code: verdict.code, message: verdict.message, ...where }
  if (verdict.duplicate) return 'duplicate'
  if (h.covers) {
    const refusal = checkCovers(scope, env, author)
    if (refusal) return { ...refusal, ...where }
  }
  if (h.kind === EnvelopeKind.awareness) return { env, hash }
  const key = membership.derivedKey(h.epoch, 'envelope')
  if (!key) return { code: 'E_UNKNOWN_EPOCH', message: `no key for epoch ${h.epoch}`, ...where }
  try {
    return { env, hash, plaintext: contentOf(env, openEnvelope(env, key)) }
  } catch (e) {
    if (isMindsyncError(e)) return { code: e.code, message: e.message, ...where }
    throw e
  }
}

/** A snapshot's covers: its author's own must end right before it, and every other must name the envelope this device holds at that seq. */
function checkCovers(scope: CheckScope, env: Envelope, author: string): Pick<Refusal, 'code' | 'message'> | undefined {
  const h = env.header
  const covers = h.covers ?? []
  const own = covers.find((c) => sameBytes(c.deviceId, h.deviceId))
  if (own && own.seq === h.seq - 1 && !sameBytes(own.hash, h.prevHash)) return { code: 'E_CHAIN', message: `snapshot ${h.seq} of ${author} covers an envelope ${own.seq} it does not follow` }
  if (own && own.seq >= h.seq) return { code: 'E_CHAIN', message: `snapshot ${h.seq} of ${author} claims to cover its own later envelope ${own.seq}` }
  for (const c of covers) {
    const other = toHex(c.deviceId)
    const held = scope.chains.at(other, c.seq)
    if (held && !sameBytes(held.hash, c.hash)) {
      // Signed by a member: this device and the snapshot's author hold different envelopes at one seq.
      scope.alert({ kind: 'fork', doc: scope.name, author: other, message: `snapshot ${h.seq} of ${author} covers another envelope ${c.seq} of ${other} than the one this device holds`, evidence: { seq: c.seq, snapshotBy: author, theirs: toHex(c.hash), ours: toHex(held.hash) } })
      return { code: 'E_CHAIN', message: `snapshot ${h.seq} of ${author} covers a different envelope ${c.seq} of ${other}` }
    }
  }
  return undefined
}
