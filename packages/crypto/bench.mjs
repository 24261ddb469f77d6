// Quick throughput table for the three backends: `node bench.mjs` after `tsc -b`.
// One named measurement per operation, noble-style size grid for the AEAD.
import { createCrypto } from './dist/api.js'
import { backend as openssl } from './dist/backends/node.js'
import { loadSodium, sodiumBackend } from './dist/backends/sodium.js'
import * as noble from './dist/noble.js'

const sodium = loadSodium()
const withSodium = sodium ? createCrypto(sodiumBackend(sodium)) : undefined
const native = createCrypto(openssl)

const BUDGET_MS = Number(process.env.BENCH_MS ?? 100)
const ROUNDS = 5

function rate(fn) {
  let n = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < BUDGET_MS) {
    for (let i = 0; i < 10; i++) fn()
    n += 10
    elapsed = performance.now() - start
  }
  return n / (elapsed / 1000)
}

// Median of several short rounds: robust against GC pauses and a busy neighbour.
function measure(fn) {
  for (let i = 0; i < 20; i++) fn() // warm-up
  const rates = Array.from({ length: ROUNDS }, () => rate(fn)).sort((a, b) => a - b)
  return rates[ROUNDS >> 1]
}

function format(opsPerSec, bytes) {
  const ops = opsPerSec >= 1000 ? `${Math.round(opsPerSec).toLocaleString('en')}/s` : `${opsPerSec.toFixed(1)}/s`
  return bytes ? `${ops} (${((opsPerSec * bytes) / 2 ** 20).toFixed(0)} MiB/s)` : ops
}

function cases(c) {
  const key = c.randomBytes(32)
  const nonce = c.randomBytes(24)
  const signing = c.generateSigningKeyPair()
  const signer = c.createSigner(signing.secretKey)
  const msg = c.randomBytes(256)
  const sig = c.sign(signing.secretKey, msg)
  const dh = c.generateDhKeyPair()
  const peer = c.generateDhKeyPair()
  const box = c.sealBox(dh.publicKey, key, 'bench')
  const list = []
  for (const [label, size] of [['64 B', 64], ['1 KiB', 1024], ['64 KiB', 65536], ['1 MiB', 2 ** 20]]) {
    const pt = c.randomBytes(size)
    const sealed = c.aeadSeal(key, nonce, pt)
    list.push([`aeadSeal ${label}`, () => c.aeadSeal(key, nonce, pt), size])
    list.push([`aeadOpen ${label}`, () => c.aeadOpen(key, nonce, sealed), size])
  }
  list.push(
    ['aeadSeal 64 B + random nonce', () => c.aeadSeal(key, c.randomBytes(24), msg.subarray(0, 64))],
    ['randomBytes(24)', () => c.randomBytes(24)],
    ['sign 256 B', () => c.sign(signing.secretKey, msg)],
    ['signer.sign 256 B', () => signer.sign(msg)],
    ['verify 256 B', () => c.verify(signing.publicKey, msg, sig)],
    ['x25519', () => c.x25519(dh.secretKey, peer.publicKey)],
    ['sealBox 32 B', () => c.sealBox(dh.publicKey, key, 'bench')],
    ['openBox 32 B', () => c.openBox(dh.secretKey, box, 'bench')],
    ['sha256 64 B', () => c.sha256(msg.subarray(0, 64))],
    ['hmacSha256 64 B', () => c.hmacSha256(key, msg.subarray(0, 64))],
    ['blake2bMac128 32 B', () => c.blake2bMac128(key, msg.subarray(0, 32))],
    ['hkdfSha256 32 B', () => c.hkdfSha256(key, undefined, 'bench', 32)],
    ['hashParts 3 x 32 B', () => c.hashParts('bench', key, key, key)],
  )
  return list
}

const rows = []
const columns = [['sodium', withSodium], ['node', native], ['noble', noble]].filter(([, c]) => c)
const all = columns.map(([, c]) => cases(c))
for (let i = 0; i < all[0].length; i++) {
  const [name, , bytes] = all[0][i]
  rows.push({ operation: name, cells: all.map((list) => format(measure(list[i][1]), bytes)) })
}
const t0 = performance.now()
noble.argon2id('correct horse battery staple', noble.randomBytes(16), { t: 2, m: 19456, p: 1 })
rows.push({ operation: 'argon2id t=2 m=19 MiB p=1', cells: [`${(performance.now() - t0).toFixed(0)} ms (noble, all)`, '', ''] })

console.log(`Node ${process.version}, median of ${ROUNDS} rounds of ${BUDGET_MS} ms per cell\n`)
console.log(`| operation | ${columns.map(([n]) => `${n} backend`).join(' | ')} |\n|---|${columns.map(() => '---:').join('|')}|`)
for (const r of rows) console.log(`| ${r.operation} | ${r.cells.slice(0, columns.length).join(' | ')} |`)
