// Turning records into the markdown tables, the issue's checks and the SVG chart.
import { CLIENT_COST, HEADLINES, SYSTEMS } from './plan.mjs'

const find = (records, system, scenario) => records.find((r) => r.system === system && r.scenario === scenario)
const value = (records, system, scenario, figure) => find(records, system, scenario)?.[figure]

export function formatNumber(x, unit) {
  if (x === undefined || x === null || Number.isNaN(x)) return '–'
  if (unit === 'bytes') return x >= 2 ** 20 ? `${(x / 2 ** 20).toFixed(1)} MiB` : `${(x / 1024).toFixed(0)} KiB`
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en')
  if (Math.abs(x) >= 10) return x.toFixed(1)
  return x.toFixed(2)
}

/** The main comparison: one row per headline figure, one column per system; best in bold. */
export function markdownTable(records) {
  const lines = [`| scenario | figure | ${SYSTEMS.join(' | ')} |`, `|---|---|${SYSTEMS.map(() => '---:').join('|')}|`]
  for (const h of HEADLINES) {
    const vals = SYSTEMS.map((s) => value(records, s, h.scenario, h.figure))
    const present = vals.filter((v) => typeof v === 'number')
    if (present.length === 0) continue
    const best = h.better === 'higher' ? Math.max(...present) : Math.min(...present)
    const cells = SYSTEMS.map((s, i) => {
      const err = find(records, s, h.scenario)?.error
      if (err) return 'FAILED'
      const text = formatNumber(vals[i], h.unit)
      return vals[i] === best && present.length > 1 ? `**${text}**` : text
    })
    const repeated = SYSTEMS.map((s) => find(records, s, h.scenario)).find((r) => r?.runs)
    const median = repeated ? `, run with the median ${repeated.medianOf} of ${repeated.runs.length}` : ''
    lines.push(`| ${h.scenario} | ${h.figure} (${h.unit}, ${h.better} is better${median}) | ${cells.join(' | ')} |`)
  }
  return lines.join('\n')
}

/** What held each process in the latency scenarios: event-loop utilisation, GC time and the longest stall, per system; and how much of the slowest 1 % passed before the author's device sent the entry. */
export function pausesTable(records) {
  const scenarios = ['fanout-10-fixed1000', 'fanout-10-fixed1000-threads', 'fanout-10-fixed100']
  const lines = ['| scenario | system | devices loop busy | devices CPU (cores) | devices GC ms | devices major GCs | longest devices stall ms | relay loop busy | relay CPU (cores) | relay major GCs | longest relay stall ms | slowest 1 % mean ms | of it before the author sent ms |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
  let any = false
  for (const scenario of scenarios) {
    for (const system of SYSTEMS) {
      const r = find(records, system, scenario)
      if (!r || r.clientsLoopBusy === undefined) continue
      any = true
      const f = (x) => formatNumber(x)
      const count = (x) => (x === undefined ? '–' : String(x))
      lines.push(`| ${scenario} | ${system} | ${f(r.clientsLoopBusy)} | ${f(r.clientsCpuLoad)} | ${f(r.clientsGcMs)} | ${count(r.clientsMajorGcs)} | ${f(r.clientsLoopMaxMs)} | ${f(r.relayLoopBusy)} | ${f(r.relayCpuLoad)} | ${count(r.relayMajorGcs)} | ${f(r.relayLoopMaxMs)} | ${f(r.slowMeanMs)} | ${f(r.slowAuthorMs)} |`)
    }
  }
  return any ? lines.join('\n') : ''
}

export function clientCostTable(records) {
  const r = find(records, 'mindsync', 'client-cost')
  if (!r) return ''
  const lines = ['| mindsync client cost on Node (one core) | µs per operation |', '|---|---:|']
  for (const [key, label] of CLIENT_COST) if (r[key] !== undefined) lines.push(`| ${label} | ${formatNumber(r[key])} |`)
  lines.push(`| envelope size for a ${r.updateBytes} B update / 64 KiB update | ${r.envelopeBytes} B / ${r.envelopeBytes64KiB} B |`)
  return lines.join('\n')
}

/**
 * The issue's "what it must show", checked against this run's figures. A quick run measures
 * smaller counts (a 5,000-entry journal, two-second windows), so its rows name the counts used
 * and say the checks are judged on a full run.
 */
export function claims(records, { quick = false } = {}) {
  const v = (s, sc, f) => value(records, s, sc, f)
  const rows = []
  const check = (claim, ok, detail) => rows.push({ claim, ok, detail })
  const m = v('mindsync', 'fanout-10-max', 'deliveredPerSec')
  const y = v('y-websocket', 'fanout-10-max', 'deliveredPerSec')
  const h = v('hocuspocus', 'fanout-10-max', 'deliveredPerSec')
  check('fan-out 10, max: mindsync ≥ 2× y-websocket and ≥ Hocuspocus (all updates stored in SQLite)', m >= 2 * y && m >= h, `${formatNumber(m)} vs 2× ${formatNumber(y)} = ${formatNumber(2 * y)} and ${formatNumber(h)}`)
  const mp = v('mindsync', 'fanout-10-fixed1000', 'p99Ms')
  const yp = v('y-websocket', 'fanout-10-fixed1000', 'p99Ms')
  // The tail follows how many major collections of the devices' process fell in the window (bench
  // README, "the p99 follows the devices' major collections"), so the row names them.
  const mg = v('mindsync', 'fanout-10-fixed1000', 'clientsMajorGcs')
  const yg = v('y-websocket', 'fanout-10-fixed1000', 'clientsMajorGcs')
  const gcs = typeof mg === 'number' && typeof yg === 'number' ? ` (devices' major collections in the window: ${mg} vs ${yg})` : ''
  check('fan-out 10 at 1,000 updates/s: mindsync p99 ≤ y-websocket p99', mp <= yp, `${formatNumber(mp)} ms vs ${formatNumber(yp)} ms${gcs}`)
  const mi = v('mindsync', 'initial-sync-100k', 'ms')
  const yi = v('y-websocket', 'initial-sync-100k', 'ms')
  const snaps = v('mindsync', 'initial-sync-100k', 'snapshots')
  const entries = v('mindsync', 'initial-sync-100k', 'entries') ?? 100_000
  check(`initial sync of ${formatNumber(entries)} entries: mindsync ≤ y-websocket`, mi <= yi, `${formatNumber(mi)} ms vs ${formatNumber(yi)} ms (mindsync snapshots received: ${snaps ?? '?'})`)
  const mr = v('mindsync', 'relay-rss-100k', 'rssMB')
  const yr = v('y-websocket', 'relay-rss-100k', 'rssMB')
  const hr = v('hocuspocus', 'relay-rss-100k', 'rssMB')
  check(`relay RSS serving the ${formatNumber(entries)}-entry journal: mindsync < both peers`, mr < yr && mr < hr, `${formatNumber(mr)} MB vs ${formatNumber(yr)} MB and ${formatNumber(hr)} MB`)
  const lines = quick ? ['Quick run: smaller counts than the issue asks for, so these rows are indicative only; the checks are judged on a full run (`npm run bench`).', ''] : []
  lines.push('| issue 6 check | result | figures |', '|---|---|---|')
  const verdict = (ok) => (quick ? (ok ? 'met (quick run)' : 'not met (quick run)') : ok ? 'met' : '**not met**')
  for (const r of rows) lines.push(`| ${r.claim} | ${verdict(r.ok)} | ${r.detail} |`)
  return { rows, markdown: lines.join('\n') }
}

const COLORS = { mindsync: '#2f6fb3', 'y-websocket': '#e08a2c', hocuspocus: '#4f9a52', 'raw-ws': '#8c8c8c' }
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Small multiples: one panel per headline figure, one bar per system, values on the bars. */
export function svgChart(records, { title }) {
  const panels = HEADLINES.filter((h) => SYSTEMS.some((s) => typeof value(records, s, h.scenario, h.figure) === 'number'))
  const cols = 5
  const pw = 250
  const ph = 230
  const top = 70
  const rows = Math.ceil(panels.length / cols)
  const width = cols * pw + 20
  const height = top + rows * ph + 20
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="14" y="26" font-size="17" font-weight="bold">${esc(title)}</text>`,
  ]
  SYSTEMS.forEach((s, i) => {
    const x = 14 + i * 150
    out.push(`<rect x="${x}" y="40" width="12" height="12" fill="${COLORS[s]}"/><text x="${x + 17}" y="50" font-size="12">${esc(s)}</text>`)
  })
  panels.forEach((h, i) => {
    const x0 = 10 + (i % cols) * pw
    const y0 = top + Math.floor(i / cols) * ph
    const vals = SYSTEMS.map((s) => value(records, s, h.scenario, h.figure))
    const max = Math.max(...vals.filter((v) => typeof v === 'number'), 1e-9)
    const chartTop = y0 + 44
    const chartH = ph - 80
    out.push(`<text x="${x0 + 8}" y="${y0 + 16}" font-size="12" font-weight="bold">${esc(h.label)}</text>`)
    out.push(`<text x="${x0 + 8}" y="${y0 + 31}" font-size="10.5" fill="#555">${esc(`${h.figure}, ${h.unit} (${h.better} is better)`)}</text>`)
    out.push(`<line x1="${x0 + 8}" y1="${chartTop + chartH}" x2="${x0 + pw - 14}" y2="${chartTop + chartH}" stroke="#999"/>`)
    const bw = (pw - 40) / SYSTEMS.length
    SYSTEMS.forEach((s, k) => {
      const v = vals[k]
      const bx = x0 + 14 + k * bw
      if (typeof v !== 'number') {
        out.push(`<text x="${bx + bw / 2 - 4}" y="${chartTop + chartH - 4}" font-size="10" text-anchor="middle" fill="#999">${find(records, s, h.scenario)?.error ? 'failed' : 'n/a'}</text>`)
        return
      }
      const bh = Math.max(1, (v / max) * (chartH - 14))
      out.push(`<rect x="${bx}" y="${chartTop + chartH - bh}" width="${bw - 8}" height="${bh}" fill="${COLORS[s]}"/>`)
      out.push(`<text x="${bx + (bw - 8) / 2}" y="${chartTop + chartH - bh - 3}" font-size="9.5" text-anchor="middle">${esc(formatNumber(v, h.unit))}</text>`)
    })
  })
  out.push('</svg>')
  return out.join('\n')
}
