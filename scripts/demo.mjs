// The scripted scenario: three devices (phone, laptop, watch) log practice
// offline, sync through a real relay on loopback, and converge; then the
// relay's files are scanned for the notes.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'mindsync-demo-'))
const db = join(dir, 'relay.db')
const say = (s) => console.log(s)
const run = (home, args) => execFileSync(process.execPath, [join(root, 'apps/cli/dist/main.js'), '--home', join(dir, home), ...args], { encoding: 'utf8' })
const last = (text) => text.trim().split('\n').pop()

const relay = spawn(process.execPath, [join(root, 'apps/relay/dist/main.js'), '--port', '0', '--db', db], { stdio: ['ignore', 'pipe', 'ignore'] })
const url = await new Promise((resolve, reject) => {
  let text = ''
  relay.stdout.on('data', (c) => {
    text += c
    const m = /listening on (ws:\/\/\S+)/.exec(text)
    if (m) resolve(m[1])
  })
  relay.once('exit', (code) => reject(new Error(`relay exited with ${code}`)))
})
say(`relay up at ${url} (SQLite at ${db})\n`)

try {
  const notes = { phone: 'felt the breath at the nostrils', laptop: 'tense before the review', watch: 'slow steps in the park' }
  say(`phone:  ${last(run('phone', ['init', '--relay', url, '--name', 'phone']))}  <- new vault`)
  run('phone', ['sync'])
  for (const name of ['laptop', 'watch']) {
    const code = last(run(name, ['pair', 'offer', '--relay', url, '--name', name]))
    say(`${name}: pairing code ${code.slice(0, 24)}…`)
    say(`phone:  ${last(run('phone', ['pair', 'accept', code]))}`)
    say(`${name}: ${run(name, ['sync']).trim().split('\n')[0]}`)
  }
  say('\nall three log offline:')
  say(`phone:  ${last(run('phone', ['log', 'session', '--minutes', '20', '--technique', 'breath', '--note', notes.phone]))}`)
  say(`laptop: ${last(run('laptop', ['log', 'mood', '--mood', '2', '--stress', '4', '--note', notes.laptop]))}`)
  say(`watch:  ${last(run('watch', ['log', 'session', '--minutes', '12', '--technique', 'walking', '--note', notes.watch]))}`)
  say('\nsync in any order:')
  for (const name of ['watch', 'laptop', 'phone', 'watch', 'laptop']) say(`${name.padEnd(7)} ${last(run(name, ['sync']))}`)
  const shown = ['phone', 'laptop', 'watch'].map((n) => run(n, ['show', '--json']))
  say('')
  for (const [i, n] of ['phone', 'laptop', 'watch'].entries()) {
    say(`${n} holds:`)
    say(run(n, ['show']).replace(/^/gm, '  '))
  }
  say(`identical show --json on all three: ${shown.every((s) => s === shown[0]) ? 'yes' : 'NO'}`)
  const files = [db, `${db}-wal`, `${db}-shm`].filter(existsSync)
  const leaks = files.filter((f) => Object.values(notes).some((n) => readFileSync(f).includes(Buffer.from(n))))
  say(`relay files scanned (${files.map((f) => f.split('/').pop()).join(', ')}): ${leaks.length === 0 ? 'no plaintext notes' : `PLAINTEXT FOUND in ${leaks}`}`)
  process.exitCode = shown.every((s) => s === shown[0]) && leaks.length === 0 ? 0 : 1
} finally {
  relay.kill('SIGTERM')
  rmSync(dir, { recursive: true, force: true })
}
