import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js'
import { sha512 } from '@noble/hashes/sha2.js'
import * as nc from 'node:crypto'
const P = ed25519.Point, L = P.Fn.ORDER, B = P.BASE
const le = (b) => { let n = 0n; for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]); return n }
const toLE = (n) => { const o = new Uint8Array(32); for (let i = 0; i < 32; i++) { o[i] = Number(n & 255n); n >>= 8n } return o }
const H = (...p) => le(sha512(Buffer.concat(p.map((x) => Buffer.from(x))))) % L
const spki = (pk) => nc.createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pk]), format: 'der', type: 'spki' })
const nodeV = (pk, m, s) => { try { return nc.verify(null, m, spki(Buffer.from(pk)), s) } catch (e) { return 'throw' } }
const nobleV = (pk, m, s) => ed25519.verify(s, m, pk, { zip215: false })
const T = ED25519_TORSION_SUBGROUP.map((h) => P.fromHex(h))
const T8 = T.find((t) => !t.is0() && !t.double().is0() && !t.double().double().is0()) // order 8
const a = 12345678901234567890n % L, A = B.multiply(a)
const tally = {}
const rec = (k, v) => { tally[k] = tally[k] || {}; const s = JSON.stringify(v); tally[k][s] = (tally[k][s] || 0) + 1 }
for (let i = 0; i < 64; i++) {
  const m = Buffer.from('msg' + i)
  // case 2: mixed-order public key A' = A + T8, honest R
  { const Ap = A.add(T8).toBytes(); const r = BigInt(i + 7), R = B.multiply(r).toBytes(); const k = H(R, Ap, m); const S = (r + k * a) % L
    const sig = Buffer.concat([R, toLE(S)]); rec('mixedA', [nodeV(Ap, m, sig), nobleV(Ap, m, sig)]) }
  // case 3: clean A, R with torsion component
  { const r = BigInt(i + 7), R = B.multiply(r).add(T8).toBytes(), Ab = A.toBytes(); const k = H(R, Ab, m); const S = (r + k * a) % L
    const sig = Buffer.concat([R, toLE(S)]); rec('torsionR', [nodeV(Ab, m, sig), nobleV(Ab, m, sig)]) }
  // case 1: small-order A, S = 0, R some torsion point
  for (const t of T) { const Ab = T8.toBytes(); const R = t.toBytes(); const k = H(R, Ab, m)
    if (T8.multiplyUnsafe(k).negate().equals(t)) { const sig = Buffer.concat([R, new Uint8Array(32)]); rec('smallA', [nodeV(Ab, m, sig), nobleV(Ab, m, sig)]) } }
}
console.log(JSON.stringify(tally, null, 1))
