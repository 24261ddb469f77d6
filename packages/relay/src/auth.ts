import { verify } from '@mindsync/crypto'
import { VAULT_ID_BYTES, authMessage, deviceIdOf, idKey, sameBytes } from '@mindsync/protocol'
import type { ErrorCode, Member } from '@mindsync/protocol'
import { CHALLENGE_BYTES, CHALLENGE_PROBLEMS } from './challenge.js'
import type { Challenges } from './challenge.js'
import type { Membership, VaultView } from './membership.js'
import type { RelayStorage } from './storage.js'

/** What a device presents to connect: its signing key, the vault (or none to let the relay find it), a challenge and its signature. */
export interface AuthRequest {
  signPub: Uint8Array
  /** The vault to open; undefined asks the relay for the vault this device was admitted to. */
  vaultId: Uint8Array | undefined
  challenge: Uint8Array
  /** Ed25519 by `signPub` over `authMessage(relayId, vaultId ?? 16 zero bytes, challenge)`. */
  signature: Uint8Array
}

/** An authenticated device and the vault its connection is bound to. */
export interface RelayAuth {
  deviceId: Uint8Array
  signPub: Uint8Array
  vaultId: Uint8Array
  /** True when the vault does not exist yet and this connection may create it with its genesis op. */
  registration: boolean
}

export type AuthStatus = 400 | 401 | 403
export type AuthResult = { ok: true; auth: RelayAuth } | { ok: false; status: AuthStatus; code: ErrorCode; message: string }

/** Whether a device may use a vault, by the verified membership. */
export type MemberStatus = 'member' | 'removed' | 'unknown'

export function memberStatus(view: VaultView, deviceId: Uint8Array): MemberStatus {
  const m: Member | undefined = view.state.members.get(idKey(deviceId))
  if (!m) return 'unknown'
  return m.removedIndex === undefined ? 'member' : 'removed'
}

export interface AuthContext {
  relayId: () => Promise<Uint8Array>
  challenges: Challenges
  membership: Membership
  storage: RelayStorage
  registration: 'open' | 'closed'
}

const ZERO_VAULT = new Uint8Array(VAULT_ID_BYTES)
const refuse = (status: AuthStatus, code: ErrorCode, message: string): AuthResult => ({ ok: false, status, code, message })

function checkShape(r: AuthRequest): AuthResult | undefined {
  if (!(r.signPub instanceof Uint8Array) || r.signPub.length !== 32) return refuse(400, 'E_BAD_FRAME', 'device key must be 32 bytes')
  if (r.vaultId !== undefined && (!(r.vaultId instanceof Uint8Array) || r.vaultId.length !== VAULT_ID_BYTES)) {
    return refuse(400, 'E_BAD_FRAME', `vault id must be ${VAULT_ID_BYTES} bytes`)
  }
  if (!(r.challenge instanceof Uint8Array) || r.challenge.length !== CHALLENGE_BYTES) {
    return refuse(400, 'E_BAD_FRAME', `challenge must be ${CHALLENGE_BYTES} bytes`)
  }
  if (!(r.signature instanceof Uint8Array) || r.signature.length !== 64) return refuse(400, 'E_BAD_FRAME', 'signature must be 64 bytes')
  return undefined
}

/** Finds the vault a device without a vault id was admitted to (how a newly paired device finds its vault). */
async function findVault(ctx: AuthContext, deviceId: Uint8Array): Promise<{ vaultId: Uint8Array } | AuthResult> {
  const vaults = await ctx.storage.memberVaults(deviceId)
  let removed = false
  // Newest first: a device re-paired into a new vault connects to that one.
  for (const vaultId of [...vaults].reverse()) {
    const view = await ctx.membership.load(vaultId)
    const status = view ? memberStatus(view, deviceId) : 'unknown'
    if (status === 'member') return { vaultId }
    if (status === 'removed') removed = true
  }
  return removed
    ? refuse(403, 'E_REVOKED', 'this device was removed from its vault')
    : refuse(403, 'E_NOT_MEMBER', 'this device has not been admitted to any vault yet')
}

/**
 * Checks a device's credentials: the challenge (issued here, fresh, unused),
 * the signature over relay id, vault and challenge, then membership.
 */
export async function authenticate(ctx: AuthContext, request: AuthRequest): Promise<AuthResult> {
  const bad = checkShape(request)
  if (bad) return bad
  const relayId = await ctx.relayId()
  const { signPub, challenge, signature } = request
  // Check, verify and mark used in one synchronous stretch: two connections
  // presenting the same challenge cannot both pass.
  const problem = ctx.challenges.check(challenge)
  if (problem) return refuse(401, 'E_UNAUTHORIZED', CHALLENGE_PROBLEMS[problem])
  if (!verify(signPub, authMessage(relayId, request.vaultId ?? ZERO_VAULT, challenge), signature)) {
    return refuse(401, 'E_UNAUTHORIZED', 'signature does not verify for this device key, relay and challenge')
  }
  ctx.challenges.use(challenge)

  const deviceId = deviceIdOf(signPub)
  if (request.vaultId === undefined) {
    const found = await findVault(ctx, deviceId)
    if ('ok' in found) return found
    return { ok: true, auth: { deviceId, signPub, vaultId: found.vaultId, registration: false } }
  }
  const vaultId = request.vaultId
  const view = await ctx.membership.load(vaultId)
  if (!view) {
    if (ctx.registration === 'closed') return refuse(403, 'E_FORBIDDEN', 'this relay does not accept new vaults (registration is closed)')
    return { ok: true, auth: { deviceId, signPub, vaultId, registration: true } }
  }
  const status = memberStatus(view, deviceId)
  if (status === 'removed') return refuse(403, 'E_REVOKED', 'this device was removed from the vault')
  if (status === 'unknown') return refuse(403, 'E_NOT_MEMBER', 'this device is not a member of the vault')
  const member = view.state.members.get(idKey(deviceId))
  if (!member || !sameBytes(member.signPub, signPub)) return refuse(403, 'E_NOT_MEMBER', 'this device key is not the member key')
  return { ok: true, auth: { deviceId, signPub, vaultId, registration: false } }
}
