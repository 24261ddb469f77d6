import { hkdfSha256 } from '@mindsync/crypto'

/**
 * The key schedule: every use of an epoch key goes through HKDF with its own
 * label, so no key is ever used for two purposes.
 */
export type KeyPurpose = 'envelope' | 'meta' | 'doc-id' | 'tags'

export function deriveKey(epochKey: Uint8Array, purpose: KeyPurpose): Uint8Array {
  return hkdfSha256(epochKey, undefined, `mindsync/v1/key/${purpose}`, 32)
}
