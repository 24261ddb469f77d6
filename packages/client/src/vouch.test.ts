import { createSigner, signingPublicKey, toHex, utf8 } from '@mindsync/crypto'
import { EnvelopeKind, ZERO_HASH, decodeEnvelope, deviceIdOf, envelopeHash, sealEnvelope } from '@mindsync/protocol'
import { describe, expect, it } from 'vitest'
import { authenticate } from './vouch.js'
import type { Decoded } from './vouch.js'

const key = new Uint8Array(32).fill(7)
const device = (n: number) => {
  const seed = new Uint8Array(32).fill(n)
  const signPub = signingPublicKey(seed)
  return { signer: createSigner(seed), signPub, deviceId: deviceIdOf(signPub) }
}
const alice = device(1)
const bob = device(2)
const keys = new Map([alice, bob].map((d) => [d.deviceId.join(), d.signPub]))
const signPub = (id: Uint8Array) => keys.get(id.join())

/** A chain of `n` envelopes of one author, each naming the previous one's hash. */
function chain(author: typeof alice, n: number, first = 1): Decoded[] {
  const out: Decoded[] = []
  let prevHash = ZERO_HASH
  for (let seq = first; seq < first + n; seq++) {
    const env = sealEnvelope({ kind: EnvelopeKind.update, vaultId: new Uint8Array(16), docId: new Uint8Array(16), epoch: 0, deviceId: author.deviceId, seq, prevHash, key, signer: author.signer, plaintext: utf8.encode(`entry ${seq}`) })
    const hash = envelopeHash(env)
    out.push({ env: decodeEnvelope(env.bytes), hash, author: toHex(author.deviceId) })
    prevHash = hash
  }
  return out
}

/** The same envelope with one byte of its signed part or signature changed (decoded again). */
function tampered(d: Decoded, where: 'body' | 'signature'): Decoded {
  const bytes = d.env.bytes.slice()
  const at = where === 'body' ? d.env.signed.length - 1 : bytes.length - 1
  bytes[at] = (bytes[at] as number) ^ 1
  const env = decodeEnvelope(bytes)
  return { env, hash: envelopeHash(env), author: d.author }
}

/** Counts signature checks by counting key lookups (one per envelope verified on its own). */
function counted(): { lookups: () => number; signPub: (id: Uint8Array) => Uint8Array | undefined } {
  let n = 0
  return { lookups: () => n, signPub: (id) => (n++, signPub(id)) }
}

describe('authenticate', () => {
  it('verifies one signature for a run of consecutive envelopes of one author', () => {
    const c = counted()
    expect(authenticate(chain(alice, 5), c.signPub)).toEqual([true, true, true, true, true])
    expect(c.lookups()).toBe(1)
  })

  it('verifies each author and each run separately, in any interleaving', () => {
    const a = chain(alice, 4)
    const b = chain(bob, 2)
    const c = counted()
    // alice 1, bob 1, alice 2, alice 4 (3 missing), bob 2: runs alice 1–2, alice 4, bob 1–2.
    expect(authenticate([a[0], b[0], a[1], a[3], b[1]], c.signPub)).toEqual([true, true, true, true, true])
    expect(c.lookups()).toBe(3)
  })

  it('refuses a changed envelope even when a later one of its author verifies', () => {
    const a = chain(alice, 3)
    const bad = tampered(a[1] as Decoded, 'body')
    expect(authenticate([a[0], bad, a[2]], signPub)).toEqual([true, false, true])
  })

  it('a forged last envelope vouches for nothing: the ones before are checked on their own', () => {
    const a = chain(alice, 3)
    const c = counted()
    expect(authenticate([a[0], a[1], tampered(a[2] as Decoded, 'signature')], c.signPub)).toEqual([true, true, false])
    expect(c.lookups()).toBe(2)
  })

  it('a later envelope of another author, or of a non-member, vouches for nothing', () => {
    const a = chain(alice, 2)
    // Bob's envelope 2 names alice's envelope 1 as its previous one: still not alice's word.
    const impostor = chain(bob, 2)
    const forgedLink: Decoded = { env: { ...impostor[1]!.env, header: { ...impostor[1]!.env.header, prevHash: a[0]!.hash } }, hash: impostor[1]!.hash, author: impostor[1]!.author }
    const c = counted()
    expect(authenticate([a[0], forgedLink], c.signPub)[0]).toBe(true)
    expect(c.lookups()).toBe(2)
    const stranger = chain(device(3), 2)
    expect(authenticate(stranger, signPub)).toEqual([false, false])
  })

  it('a valid receiver tag authenticates without a signature check; without one the signature decides', () => {
    const a = chain(alice, 2)
    const c = counted()
    // Tagged: the second (last of the run) needs no verify, and vouches for the first.
    expect(authenticate(a, c.signPub, (d) => d === a[1])).toEqual([true, true])
    expect(c.lookups()).toBe(0)
    const forged = tampered(a[1] as Decoded, 'signature')
    expect(authenticate([forged], signPub, () => false)).toEqual([false])
  })

  it('skips entries that did not decode', () => {
    const a = chain(alice, 2)
    expect(authenticate([a[0], undefined, a[1]], signPub)).toEqual([true, false, true])
  })
})
