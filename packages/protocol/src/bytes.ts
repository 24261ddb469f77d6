/** Concatenates byte arrays into one new array (the crypto package's, re-exported for protocol users). */
export { concatBytes } from '@mindsync/crypto'
