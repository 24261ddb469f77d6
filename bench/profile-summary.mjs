// Where the time goes in a .cpuprofile written by `run.mjs --profile`:
//   node bench/profile-summary.mjs bench/results/profiles/mindsync-initial-sync-100k/clients.cpuprofile [top]
// Prints self time by category (crypto, Yjs, store, network, GC, ...) and the top functions.
import { readFileSync } from 'node:fs'

//   --inclusive fnA,fnB   also prints the inclusive time of functions with these names
const argv = process.argv.slice(2)
const inclIdx = argv.indexOf('--inclusive')
const inclusiveNames = inclIdx >= 0 ? argv.splice(inclIdx, 2)[1].split(',') : []
const [file, topArg] = argv
if (!file) {
  console.error('usage: node bench/profile-summary.mjs FILE.cpuprofile [top] [--inclusive fnA,fnB]')
  process.exit(2)
}
const prof = JSON.parse(readFileSync(file, 'utf8'))
const top = Number(topArg ?? 15)
const byId = new Map(prof.nodes.map((n) => [n.id, n]))
const self = new Map()
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)))

// First match wins; `f` is the function name, `u` the script URL.
const CATEGORIES = [
  ['Ed25519 verify', (f) => /verifyOneShot|ed25519Verify/.test(f)],
  ['Ed25519 sign', (f) => /signOneShot/.test(f)],
  ['AEAD (XChaCha20-Poly1305)', (f, u) => /cipher|xchacha|hchacha|Cipher/.test(f + u)],
  ['SHA-256 and other hashes', (f, u) => /crypto\/hash|\/hash\.js|encodeParts|createHash|digest/.test(u + f)],
  ['Yjs and lib0', (f, u) => /yjs|lib0|y-protocols/.test(u)],
  ['@mindsync/client memory store', (f, u) => /memoryStore/.test(u)],
  ['@mindsync client/protocol/crypto JS', (f, u) => /packages\/(client|protocol|crypto)\//.test(u)],
  ['@mindsync/relay JS', (f, u) => /packages\/relay\//.test(u)],
  ['SQLite (better-sqlite3)', (f, u) => /better-sqlite3|sqlite/i.test(u + f)],
  ['WebSocket and TCP', (f, u) => /\/ws\/|crossws|writeBuffer|writev|streams\/|net\.js|stream_base/.test(u + f)],
  ['garbage collector', (f) => f === '(garbage collector)'],
  ['idle', (f) => f === '(idle)'],
]

const name = (n) => {
  const { functionName, url, lineNumber } = n.callFrame
  const short = url.replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '').replace(/^.*\/(packages|bench)\//, '$1/')
  return `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`
}
const parent = new Map()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const SPECIAL = new Set(['(garbage collector)', '(idle)', '(program)', '(root)'])
// Native frames (no script URL, e.g. OpenSSL's job `run`) count for the nearest caller with a
// name or URL that a category recognises.
function categoryOf(id) {
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const { functionName: f, url: u } = byId.get(cur).callFrame
    if (SPECIAL.has(f)) return cur === id ? CATEGORIES.find(([, test]) => test(f, u))?.[0] : undefined
    const c = CATEGORIES.find(([, test]) => test(f, u))?.[0]
    if (c) return c
    if (u !== '' && !u.startsWith('node:')) return undefined
  }
  return undefined
}
const categories = new Map()
const functions = new Map()
let total = 0
for (const [id, t] of self) {
  const n = byId.get(id)
  const c = categoryOf(id) ?? 'other (Node internals, bench code)'
  categories.set(c, (categories.get(c) ?? 0) + t)
  functions.set(name(n), (functions.get(name(n)) ?? 0) + t)
  total += t
}
const busy = total - (categories.get('idle') ?? 0)
const line = (label, t) => `  ${label.padEnd(44)} ${(t / 1e3).toFixed(0).padStart(7)} ms  ${((100 * t) / busy).toFixed(1).padStart(5)}%`
console.log(`${file}\n${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (percentages of busy time)\n\nby category (self time):`)
for (const [c, t] of [...categories].sort((a, b) => b[1] - a[1])) if (c !== 'idle') console.log(line(c, t))
console.log(`\ntop ${top} functions (self time):`)
for (const [f, t] of [...functions].sort((a, b) => b[1] - a[1]).filter(([f]) => !f.startsWith('(idle)')).slice(0, top)) console.log(line(f, t))

if (inclusiveNames.length > 0) {
  // Inclusive time: every sample whose stack holds a frame of that name counts once.
  const inclusive = new Map(inclusiveNames.map((n) => [n, 0]))
  for (const [id, t] of self) {
    const seen = new Set()
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur).callFrame.functionName
      if (inclusive.has(f) && !seen.has(f)) {
        seen.add(f)
        inclusive.set(f, inclusive.get(f) + t)
      }
    }
  }
  console.log('\ninclusive time:')
  for (const [f, t] of inclusive) console.log(line(f, t))
}
