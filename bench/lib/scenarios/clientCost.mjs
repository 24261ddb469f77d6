// Client cost on Node: what a mindsync device spends per update on its own CPU to seal + sign
// an envelope and to decode + verify + open one, for a ~100-byte practice entry and for a
// 64 KiB update, with a breakdown by primitive and a raw node:crypto Ed25519 baseline.
import { createSigner, generateSigningKeyPair, randomBytes, verify } from '@mindsync/crypto'
import { EnvelopeKind, ZERO_HASH, decodeEnvelope, envelopeHash, openEnvelope, sealEnvelope, verifyEnvelope } from '@mindsync/protocol'
import * as nodeCrypto from 'node:crypto'
import * as Y from 'yjs'
import { writeEntry } from '../workload.mjs'

/** Median microseconds per call over `rounds` rounds of about `budgetMs` each. */
function timeUs(fn, { budgetMs, rounds = 5 }) {
  for (let i = 0; i < 50; i++) fn()
  const results = []
  for (let r = 0; r < rounds; r++) {
    let n = 0
    const start = performance.now()
    let elapsed = 0
    while (elapsed < budgetMs) {
      for (let i = 0; i < 10; i++) fn()
      n += 10
      elapsed = performance.now() - start
    }
    results.push((elapsed * 1000) / n)
  }
  results.sort((a, b) => a - b)
  return Math.round(results[rounds >> 1] * 10) / 10
}

function yUpdate(write) {
  const doc = new Y.Doc()
  let update
  doc.on('update', (u) => {
    update = u
  })
  write(doc)
  return update
}

/** Y.applyUpdate of one writer's entries, in order, into a fresh doc: µs per entry (median of 3). */
function yjsApplyUs() {
  const source = new Y.Doc()
  const updates = []
  source.on('update', (u) => updates.push(u))
  for (let i = 0; i < 5000; i++) writeEntry(source, 2, i, 1)
  const runs = []
  for (let r = 0; r < 3; r++) {
    const doc = new Y.Doc()
    const t = performance.now()
    for (const u of updates) Y.applyUpdate(doc, u)
    runs.push(((performance.now() - t) * 1000) / updates.length)
  }
  runs.sort((a, b) => a - b)
  return Math.round(runs[1] * 10) / 10
}

export async function clientCost({ budgetMs = 200 }) {
  const signing = generateSigningKeyPair()
  const signer = createSigner(signing.secretKey)
  const key = randomBytes(32)
  const header = { kind: EnvelopeKind.update, vaultId: randomBytes(16), docId: randomBytes(16), epoch: 0, deviceId: randomBytes(16), prevHash: ZERO_HASH }
  const payloads = {
    '': yUpdate((doc) => writeEntry(doc, 1, 42, 1)),
    '64KiB': yUpdate((doc) => doc.getMap('notes').set('audio-note', new Uint8Array(64 * 1024 - 40).fill(7))),
  }
  const figures = {}
  let seq = 1
  for (const [suffix, plaintext] of Object.entries(payloads)) {
    const env = sealEnvelope({ ...header, seq: 1, key, signer, plaintext })
    const opts = { budgetMs }
    figures[`sealSign${suffix}Us`] = timeUs(() => sealEnvelope({ ...header, seq: ++seq, key, signer, plaintext }), opts)
    figures[`verifyOpen${suffix}Us`] = timeUs(() => {
      const e = decodeEnvelope(env.bytes)
      if (!verifyEnvelope(e, signing.publicKey)) throw new Error('does not verify')
      openEnvelope(e, key)
    }, opts)
    figures[`updateBytes${suffix}`] = plaintext.length
    figures[`envelopeBytes${suffix}`] = env.bytes.length
    if (suffix === '') {
      // Where the time goes, per primitive, on the same envelope.
      const signed = env.signed
      figures.signUs = timeUs(() => signer.sign(signed), opts)
      figures.verifyUs = timeUs(() => verify(signing.publicKey, signed, env.signature), opts)
      figures.envelopeHashUs = timeUs(() => envelopeHash(env), opts)
      figures.openUs = timeUs(() => openEnvelope(env, key), opts)
      figures.decodeUs = timeUs(() => decodeEnvelope(env.bytes), opts)
      const { publicKey, privateKey } = nodeCrypto.generateKeyPairSync('ed25519')
      const msg = Buffer.from(signed)
      const sig = nodeCrypto.sign(null, msg, privateKey)
      figures.rawNodeSignUs = timeUs(() => nodeCrypto.sign(null, msg, privateKey), opts)
      figures.rawNodeVerifyUs = timeUs(() => nodeCrypto.verify(null, msg, publicKey, sig), opts)
      figures.yjsApplyUs = yjsApplyUs()
    }
  }
  return figures
}
