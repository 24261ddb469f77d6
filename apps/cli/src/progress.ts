import type { Progress } from '@mindsync/client'

const WIDTH = 30

/** `[#########---------------------]  2,400/8,000 journal` */
export function progressBar(p: Progress): string {
  const filled = p.total === 0 ? WIDTH : Math.round((p.done / p.total) * WIDTH)
  return `pushing [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${p.done.toLocaleString('en')}/${p.total.toLocaleString('en')} ${p.doc}`
}

/**
 * Shows a long push: redrawn in place on a terminal; elsewhere (a log, a
 * pipe) one line per tenth, so the output stays readable.
 */
export function progressPrinter(write: (text: string) => void, isTty: boolean): (p: Progress) => void {
  let lastTenth = -1
  return (p) => {
    if (isTty) {
      write(`\r${progressBar(p)}${p.done === p.total ? '\n' : ''}`)
      return
    }
    const tenth = Math.floor((p.done / p.total) * 10)
    if (tenth === lastTenth) return
    lastTenth = tenth
    write(`${progressBar(p)}\n`)
  }
}
