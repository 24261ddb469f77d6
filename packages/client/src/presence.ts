import { toHex } from '@mindsync/crypto'
import { EnvelopeKind, ZERO_HASH, decodeEnvelope, openEnvelope, sameBytes, sealEnvelope, verifyEnvelope } from '@mindsync/protocol'
import type { ClientMessage } from '@mindsync/protocol'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import type { DeviceIdentity } from './identity.js'
import type { Membership } from './membership.js'

export interface PresenceContext {
  identity: DeviceIdentity
  membership: Membership
  send(message: ClientMessage): boolean
}

/**
 * Presence for one doc ("meditating now on the watch"): a y-protocols
 * Awareness whose updates travel sealed and signed like envelopes (kind
 * awareness, seq 0), fanned out by the relay and never stored.
 */
export class Presence {
  readonly awareness: Awareness
  private readonly onUpdate = (changes: { added: number[]; updated: number[]; removed: number[] }, origin: unknown): void => {
    if (origin === this) return
    const clients = [...changes.added, ...changes.updated, ...changes.removed]
    if (clients.includes(this.awareness.clientID)) this.publish([this.awareness.clientID])
  }

  constructor(
    readonly docId: Uint8Array,
    doc: Y.Doc,
    private readonly ctx: PresenceContext,
  ) {
    this.awareness = new Awareness(doc)
    this.awareness.on('update', this.onUpdate)
  }

  private publish(clients: number[]): void {
    const { membership, identity } = this.ctx
    const state = membership.state
    const key = state && membership.derivedKey(state.epoch, 'envelope')
    if (!state || !key || !membership.self()) return
    const env = sealEnvelope({
      kind: EnvelopeKind.awareness,
      vaultId: state.vaultId,
      docId: this.docId,
      epoch: state.epoch,
      deviceId: identity.deviceId,
      seq: 0,
      prevHash: ZERO_HASH,
      key,
      signer: identity.signer,
      plaintext: encodeAwarenessUpdate(this.awareness, clients),
    })
    this.ctx.send({ type: 'awareness', envelope: env.bytes })
  }

  /** Sends this device's state again (after a reconnect, others may have forgotten it). */
  connected(): void {
    if (this.awareness.getLocalState() !== null) this.publish([this.awareness.clientID])
  }

  /** Applies a presence envelope from another device when it verifies; anything else is dropped (presence is never worth an alert). */
  receive(bytes: Uint8Array): void {
    try {
      const env = decodeEnvelope(bytes)
      const h = env.header
      const { membership } = this.ctx
      if (h.kind !== EnvelopeKind.awareness || !sameBytes(h.docId, this.docId) || !sameBytes(h.vaultId, membership.state?.vaultId ?? new Uint8Array(0))) return
      const author = membership.member(h.deviceId)
      if (!author || author.removedIndex !== undefined || toHex(h.deviceId) === this.ctx.identity.id) return
      if (!verifyEnvelope(env, author.signPub)) return
      const key = membership.derivedKey(h.epoch, 'envelope')
      if (!key) return
      const known = this.awareness.getStates().size
      applyAwarenessUpdate(this.awareness, openEnvelope(env, key), this)
      // A device heard from for the first time may have missed this one's state (sent before it
      // listened, or before it came online): tell it. It answers only if this one is new to it.
      if (this.awareness.getStates().size > known && this.awareness.getLocalState() !== null) this.publish([this.awareness.clientID])
    } catch {
      // A malformed or forged presence message is ignored.
    }
  }

  destroy(): void {
    this.awareness.off('update', this.onUpdate)
    removeAwarenessStates(this.awareness, [this.awareness.clientID], this)
    this.awareness.destroy()
  }
}
