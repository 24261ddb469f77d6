// Signatures that exercise the cofactor corner of Ed25519, built with noble's
// point arithmetic (test-only). RFC 8032 allows either verification equation,
// [8][S]B = [8]R + [8][k]A (noble) or [S]B = R + [k]A (OpenSSL); they differ
// only on points with a small-order component.
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js'
import { sha512 } from '@noble/hashes/sha2.js'

const Point = ed25519.Point
const L = Point.Fn.ORDER
const B = Point.BASE
const torsion = ED25519_TORSION_SUBGROUP.map((h) => Point.fromHex(h))
const T8 = torsion.find((t) => !t.double().double().is0())!

function le(b: Uint8Array): bigint {
  let n = 0n
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!)
  return n
}
function toLE(n: bigint): Uint8Array {
  const o = new Uint8Array(32)
  for (let i = 0; i < 32; i++, n >>= 8n) o[i] = Number(n & 255n)
  return o
}
function challenge(R: Uint8Array, A: Uint8Array, m: Uint8Array): bigint {
  return le(sha512(new Uint8Array([...R, ...A, ...m]))) % L
}

export interface Crafted {
  publicKey: Uint8Array
  message: Uint8Array
  signature: Uint8Array
}

/** A small-order public key with S = 0 and R = -kA: a signature anyone can make. */
export function smallOrderForgery(): Crafted {
  const A = T8.toBytes()
  for (let i = 0; ; i++) {
    const message = new TextEncoder().encode(`forged ${i}`)
    for (const t of torsion) {
      const R = t.toBytes()
      if (T8.multiplyUnsafe(challenge(R, A, message)).negate().equals(t)) {
        return { publicKey: A, message, signature: new Uint8Array([...R, ...new Uint8Array(32)]) }
      }
    }
  }
}

/** An honest key, but R carries a small-order component (only the key holder can do this). */
export function torsionNonce(): Crafted {
  const a = 0x1234567890abcdefn
  const r = 0x42n
  const A = B.multiply(a).toBytes()
  const R = B.multiply(r).add(T8).toBytes()
  const message = new TextEncoder().encode('torsion R')
  const S = (r + challenge(R, A, message) * a) % L
  return { publicKey: A, message, signature: new Uint8Array([...R, ...toLE(S)]) }
}
