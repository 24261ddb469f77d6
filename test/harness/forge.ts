import { generateIdentity } from '@mindsync/client'
import { EnvelopeKind, ZERO_HASH, decodeEnvelope, docIdOf, envelopeHash, newVaultId, pairTagKey, receiverTag, sealEnvelope, withTags } from '@mindsync/protocol'
import type { Signer } from '@mindsync/crypto'
import { createJournal } from '@mindsync/practice'
import * as Y from 'yjs'
import type { TestDevice } from './devices.js'

/** Every note an injection carries starts with this, so a test can tell injected content from written content. */
export const INJECTED = 'INJECTED'

/**
 * What a malicious relay (with whatever keys it stole) can put in front of a device:
 * - `non-member`: signed by a key that was never a member, sealed with a stolen current epoch key (E_NOT_MEMBER)
 * - `forged`: claims to be a member's next envelope, signed by another key (E_FORGED)
 * - `forged-tagged`: the same, with a receiver tag for every member made the best way the holder of the
 *   epoch key can (its own X25519 key in place of the claimed author's): no tag checks, so E_FORGED
 * - `revoked`: signed by a removed device's stolen key, claiming an epoch from its removal on, sealed with its old epoch key (E_REVOKED)
 * - `backdated`: signed by a removed device's stolen key, claiming the last epoch it belonged to, sealed with that (stolen) epoch key, extending its chain
 * - `equivocating`: like `backdated`, but in place of the removed device's last envelope (same seq, same prevHash, other content): only the comparison of the two envelopes' hashes tells them apart (E_EQUIVOCATION)
 * - `misrouted-doc`: a member's genuine envelope of another doc of the vault (E_MISROUTED)
 * - `misrouted-vault`: a member's genuine envelope of another vault (E_MISROUTED)
 */
export type Injection = 'non-member' | 'forged' | 'forged-tagged' | 'revoked' | 'backdated' | 'equivocating' | 'misrouted-doc' | 'misrouted-vault'

export const INJECTIONS: readonly Injection[] = ['non-member', 'forged', 'forged-tagged', 'revoked', 'backdated', 'equivocating', 'misrouted-doc', 'misrouted-vault']

/** Kinds that need a removed device's stolen keys. */
const NEED_REMOVED: readonly Injection[] = ['revoked', 'backdated', 'equivocating']

/** A Yjs update adding one practice session whose note is `note`. */
export function sessionUpdate(note: string): Uint8Array {
  const doc = new Y.Doc()
  createJournal(doc, { device: 'intruder' }).logSession({ minutes: 7, note })
  return Y.encodeStateAsUpdate(doc)
}

/** A device's chain head for its journal doc: the highest own envelope it holds (what its next envelope must follow) and the hash that one follows. */
export interface ChainHead {
  seq: number
  hash: Uint8Array
  prevHash: Uint8Array
}

export async function ownHead(d: TestDevice): Promise<ChainHead> {
  let best: ChainHead = { seq: 0, hash: ZERO_HASH, prevHash: ZERO_HASH }
  for (const e of await d.store.listEnvelopes(d.doc!.key)) {
    if (e.author !== d.client.deviceId || e.seq <= best.seq) continue
    const env = decodeEnvelope(e.envelope)
    best = { seq: e.seq, hash: envelopeHash(env), prevHash: env.header.prevHash }
  }
  return best
}

export interface ForgeContext {
  /** A current member: its vault, doc, epoch keys, and (for "genuine envelopes from elsewhere") its signer. */
  member: TestDevice
  /** A removed device whose keys were stolen, with its chain head at removal; needed for `revoked` and `backdated`. */
  removed?: { device: TestDevice; head: ChainHead; lastEpoch: number; removalEpoch: number }
}

/**
 * Builds injected envelopes. Each kind is built once per context and then
 * reused (byte-identical), as a relay replaying its one forgery would.
 */
export class Forger {
  private readonly built = new Map<Injection, Uint8Array | undefined>()
  private readonly intruder = generateIdentity('intruder')
  private readonly otherVault = newVaultId()
  constructor(private readonly ctx: ForgeContext) {}

  /** The kinds this context can build. */
  kinds(): Injection[] {
    return INJECTIONS.filter((k) => this.ctx.removed || !NEED_REMOVED.includes(k))
  }

  envelope(kind: Injection, memberHead: ChainHead): Uint8Array | undefined {
    if (kind === 'forged' || kind === 'forged-tagged') return this.make(kind, memberHead) // depends on the member's current head
    if (!this.built.has(kind)) this.built.set(kind, this.make(kind, memberHead))
    return this.built.get(kind)
  }

  private make(kind: Injection, memberHead: ChainHead): Uint8Array | undefined {
    const { member, removed } = this.ctx
    const m = member.client.membership
    const state = m.requireState()
    const docId = member.doc!.docId
    const current = m.derivedKey(state.epoch, 'envelope')!
    const plaintext = sessionUpdate(`${INJECTED}-${kind}`)
    const seal = (h: { vaultId?: Uint8Array; docId?: Uint8Array; epoch: number; deviceId: Uint8Array; seq: number; prevHash: Uint8Array; key: Uint8Array; signer: Signer }): Uint8Array =>
      sealEnvelope({ kind: EnvelopeKind.update, vaultId: h.vaultId ?? state.vaultId, docId: h.docId ?? docId, plaintext, ...h }).bytes
    switch (kind) {
      case 'non-member':
        return seal({ epoch: state.epoch, deviceId: this.intruder.deviceId, seq: 1, prevHash: ZERO_HASH, key: current, signer: this.intruder.signer })
      case 'forged':
        return seal({ epoch: state.epoch, deviceId: member.client.identity.deviceId, seq: memberHead.seq + 1, prevHash: memberHead.hash, key: current, signer: this.intruder.signer })
      case 'forged-tagged': {
        const claimed = member.client.identity.deviceId
        const env = decodeEnvelope(seal({ epoch: state.epoch, deviceId: claimed, seq: memberHead.seq + 1, prevHash: memberHead.hash, key: current, signer: this.intruder.signer }))
        const tagKey = m.derivedKey(state.epoch, 'tags')!
        const tags = m.members().filter((r) => r.dhPub.length > 0).map((r) => receiverTag(pairTagKey(tagKey, this.intruder.dhSecret, r.dhPub, claimed, r.deviceId), r.deviceId, envelopeHash(env)))
        return withTags(env, tags).bytes
      }
      case 'misrouted-doc': {
        const other = docIdOf(m.derivedKey(0, 'doc-id')!, 'elsewhere')
        return seal({ docId: other, epoch: state.epoch, deviceId: member.client.identity.deviceId, seq: 1, prevHash: ZERO_HASH, key: current, signer: member.client.identity.signer })
      }
      case 'misrouted-vault':
        return seal({ vaultId: this.otherVault, epoch: state.epoch, deviceId: member.client.identity.deviceId, seq: 1, prevHash: ZERO_HASH, key: current, signer: member.client.identity.signer })
      case 'revoked':
      case 'backdated':
      case 'equivocating': {
        if (!removed) return undefined
        const r = removed.device.client
        const oldKey = r.membership.derivedKey(removed.lastEpoch, 'envelope')!
        const replace = kind === 'equivocating'
        return seal({
          epoch: kind === 'revoked' ? removed.removalEpoch : removed.lastEpoch,
          deviceId: r.identity.deviceId,
          seq: replace ? removed.head.seq : removed.head.seq + 1,
          prevHash: replace ? removed.head.prevHash : removed.head.hash,
          key: oldKey,
          signer: r.identity.signer,
        })
      }
    }
  }
}
