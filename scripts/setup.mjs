// Sets the workspace up on a fresh clone with only Node 20: installs the
// pinned pnpm's dependencies when the manifests changed, then builds.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const [major] = process.versions.node.split('.').map(Number)
if (major < 20) {
  console.error(`mindsync needs Node 20 or later; this is Node ${process.versions.node}.`)
  process.exit(1)
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const pnpm = pkg.packageManager // e.g. "pnpm@12.4.2"

function manifests() {
  const files = ['package.json', 'pnpm-workspace.yaml', 'pnpm-lock.yaml']
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, group))) files.push(join(group, name, 'package.json'))
  }
  files.push('test/package.json', 'bench/package.json')
  const hash = createHash('sha256')
  for (const f of files) if (existsSync(join(root, f))) hash.update(f).update(readFileSync(join(root, f)))
  return hash.digest('hex')
}

function run(cmd, args) {
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, npm_config_update_notifier: 'false' } })
}

const stampFile = join(root, 'node_modules', '.mindsync-setup')
const want = manifests()
const have = existsSync(stampFile) ? readFileSync(stampFile, 'utf8') : ''
if (want !== have) {
  console.log(`mindsync setup: installing dependencies with ${pnpm} (first run or changed manifests)…`)
  const frozen = existsSync(join(root, 'pnpm-lock.yaml')) ? ['--frozen-lockfile'] : []
  run('npx', ['--yes', pnpm, 'install', ...frozen])
  writeFileSync(stampFile, manifests())
}

if (!process.argv.includes('--no-build')) {
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'])
}
