// Client cost on Node: what a mindsync device spends per update on its own CPU to seal + sign
// an envelope and to decode + verify + open one, for a ~100-byte practice entry and for a
// 64 KiB update, with a breakdown by primitive and a raw node:crypto Ed25519 baseline.
import { createSigner, generateSigningKeyPair, randomBytes, sign, verify } from '@mindsync/crypto'
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
      const ydoc = new Y.Doc()
      let n = 0
      const entries = Array.from({ length: 2000 }, (_, i) => yUpdate((doc) => writeEntry(doc, 2, i, 1)))
      figures.yjsApplyUs = timeUs(() => Y.applyUpdate(ydoc, entries[n++ % entries.length]), opts)
      void sign
    }
  }
  return figures
}
