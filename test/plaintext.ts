import { existsSync, readFileSync } from 'node:fs'

/**
 * Every form in which a secret string could sit in a file: raw UTF-8, hex
 * (both cases), and base64 / base64url at each of the three byte alignments
 * (a substring's base64 depends on where it starts), trimmed of the edge
 * characters that alignment changes.
 */
export function encodings(secret: string): string[] {
  const raw = Buffer.from(secret, 'utf8')
  const out = [secret, raw.toString('hex'), raw.toString('hex').toUpperCase()]
  for (let shift = 0; shift < 3; shift++) {
    const b64 = Buffer.concat([Buffer.alloc(shift), raw]).toString('base64')
    const core = b64.slice(Math.ceil((shift * 4) / 3) + 1, -4)
    if (core.length >= 8) out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'))
  }
  return out
}

/** Files (that exist) among the paths, with the secrets found in each, in any encoding. */
export function findPlaintext(paths: string[], secrets: string[]): { file: string; secret: string; form: string }[] {
  const hits: { file: string; secret: string; form: string }[] = []
  for (const file of paths) {
    if (!existsSync(file)) continue
    const bytes = readFileSync(file)
    const text = bytes.toString('latin1')
    for (const secret of secrets) {
      for (const form of encodings(secret)) if (text.includes(form)) hits.push({ file, secret, form })
    }
  }
  return hits
}
