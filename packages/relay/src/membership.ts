import { toHex } from '@mindsync/crypto'
import { OpType, applyOp, decodeOp, deviceIdOf, isMindsyncError, sameBytes } from '@mindsync/protocol'
import type { MembershipOp, MembershipState } from '@mindsync/protocol'
import { BoundedMap } from './lru.js'
import type { RelayStorage } from './storage.js'

/** A vault's verified membership and the op bytes it was verified from. */
export interface VaultView {
  state: MembershipState
  /** Every op in log order; only ever appended to. */
  ops: Uint8Array[]
}

export type AppendOpResult =
  | { ok: true; op: MembershipOp; view: VaultView; removed: Uint8Array | undefined }
  | { ok: false; code: string; message: string }

/** The relay's view of every vault's membership log: verified with the protocol's rules, cached, appended to one op at a time. */
export interface Membership {
  /** The vault's verified membership, or undefined when the relay does not know the vault. */
  load(vaultId: Uint8Array): Promise<VaultView | undefined>
  /**
   * Verifies and stores one op. `creator` is the signing key that may create
   * the vault when it does not exist yet (a registration session), if any.
   */
  append(vaultId: Uint8Array, op: MembershipOp, creator: Uint8Array | undefined): Promise<AppendOpResult>
}

/** Verifies a stored log from genesis; a stored op that no longer verifies is a relay fault, not the device's. */
function verifyStored(vaultHex: string, ops: Uint8Array[]): VaultView {
  let state: MembershipState | undefined
  ops.forEach((bytes, i) => {
    try {
      state = applyOp(state, decodeOp(bytes))
    } catch (e) {
      throw new Error(`stored membership log of vault ${vaultHex} does not verify at op ${i}: ${(e as Error).message}`)
    }
  })
  if (!state) throw new Error(`stored membership log of vault ${vaultHex} is empty`)
  return { state, ops }
}

const refused = (code: string, message: string): AppendOpResult => ({ ok: false, code, message })

export function createMembership(storage: RelayStorage, maxCachedVaults: number): Membership {
  const cache = new BoundedMap<string, VaultView>(maxCachedVaults)
  const loading = new Map<string, Promise<VaultView | undefined>>()
  // One append at a time per vault: the check against the head and the
  // compare-and-set must not interleave with another append.
  const locks = new Map<string, Promise<unknown>>()

  async function load(vaultId: Uint8Array): Promise<VaultView | undefined> {
    const key = toHex(vaultId)
    const hit = cache.get(key)
    if (hit) return hit
    let p = loading.get(key)
    if (!p) {
      p = storage
        .loadOps(vaultId)
        .then((ops) => {
          if (ops === undefined) return undefined
          const view = verifyStored(key, ops)
          cache.set(key, view)
          return view
        })
        .finally(() => loading.delete(key))
      loading.set(key, p)
    }
    return p
  }

  async function appendLocked(vaultId: Uint8Array, op: MembershipOp, creator: Uint8Array | undefined): Promise<AppendOpResult> {
    if (!sameBytes(op.vaultId, vaultId)) return refused('E_MISROUTED', 'op is for another vault than this connection')
    const view = await load(vaultId)
    if (!view) {
      if (!creator) return refused('E_NOT_MEMBER', 'the vault does not exist on this relay')
      if (op.type !== OpType.genesis || op.index !== 0) {
        return refused('E_FORBIDDEN', 'this vault does not exist yet: a registration connection may only append its genesis op')
      }
      if (!sameBytes(op.signPub, creator)) {
        return refused('E_FORBIDDEN', 'the genesis op must create the device that authenticated this connection')
      }
    } else if (op.index !== view.state.index + 1 || !sameBytes(op.prevHash, view.state.hash)) {
      return refused('E_CONFLICT', `op ${op.index} does not extend the log head (${view.ops.length} ops); fetch the ops and retry`)
    }
    let state: MembershipState
    try {
      state = applyOp(view?.state, op)
    } catch (e) {
      if (isMindsyncError(e)) return refused(e.code, e.message)
      throw e
    }
    const added = op.type === OpType.genesis || op.type === OpType.addDevice ? deviceIdOf(op.signPub) : undefined
    const stored = await storage.appendOp(vaultId, op.index, op.bytes, added)
    const key = toHex(vaultId)
    if (!stored) {
      // Someone else (another relay instance on the same storage) won the race.
      cache.delete(key)
      return refused('E_CONFLICT', `op ${op.index} lost a race with another op; fetch the ops and retry`)
    }
    const next: VaultView = { state, ops: view ? view.ops : [] }
    next.ops.push(op.bytes.slice())
    cache.set(key, next)
    return { ok: true, op, view: next, removed: op.type === OpType.removeDevice ? op.target : undefined }
  }

  return {
    load,
    append(vaultId, op, creator) {
      const key = toHex(vaultId)
      const run = (locks.get(key) ?? Promise.resolve()).then(() => appendLocked(vaultId, op, creator))
      const settled = run.catch(() => undefined)
      locks.set(key, settled)
      void settled.then(() => {
        if (locks.get(key) === settled) locks.delete(key)
      })
      return run
    },
  }
}
