import { utf8 } from '@mindsync/crypto'
import { concatBytes } from './bytes.js'

/** The path of the sync endpoint and of the challenge request (versioned). */
export const SYNC_PATH = '/v1/sync'
export const CHALLENGE_PATH = '/v1/challenge'

const AUTH_CONTEXT = utf8.encode('mindsync/v1/auth\0')

/**
 * The bytes a device signs to authenticate: the relay's id, the vault (16
 * zero bytes when the device asks the relay to find its vault) and the
 * single-use challenge. Binding the relay id stops a signature being
 * replayed to another relay.
 */
export function authMessage(relayId: Uint8Array, vaultId: Uint8Array, challenge: Uint8Array): Uint8Array {
  return concatBytes(AUTH_CONTEXT, relayId, vaultId, challenge)
}
