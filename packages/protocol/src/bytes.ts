/** Concatenates byte arrays into one new array (the crypto package's, re-exported for protocol users). */
export { concatBytes } from '@mindsync/crypto'

/** Orders byte strings lexicographically (a shorter prefix first): negative, zero or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number)
  return a.length - b.length
}
