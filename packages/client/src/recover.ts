import { MindsyncError, Scope } from '@mindsync/protocol'
import { encodeIdentity } from './identity.js'
import { createMemoryStore } from './memoryStore.js'
import { recoveryIdentity } from './recovery.js'
import { createSyncClient } from './syncClient.js'
import type { SyncClient, SyncClientOptions } from './syncClient.js'

/**
 * Brings a brand-new device into a vault when every other device is lost:
 * the recovery member (keys derived from the code, held only in memory)
 * joins, then admits this device as an admin through the ordinary pairing
 * path, so the new device checks the pairing proof as any other would.
 */
export async function recoverDevice(code: string, options: SyncClientOptions & { timeoutMs?: number }): Promise<SyncClient> {
  const client = await createSyncClient(options)
  if (client.membership.self()) throw new MindsyncError('E_INVALID_INPUT', 'this device is already a member of a vault')
  const identity = await recoveryIdentity(code)
  const recoveryStore = createMemoryStore()
  await recoveryStore.setMeta('identity', encodeIdentity(identity))
  const { passphrase: _unused, ...rest } = options
  const recovery = await createSyncClient({ ...rest, store: recoveryStore, rotateAfterMs: 0 })
  try {
    await recovery.syncOnce(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
    await recovery.acceptPairing(await client.createPairingOffer(), Scope.read | Scope.write | Scope.admin)
  } catch (e) {
    if (e instanceof MindsyncError && e.code === 'E_NOT_MEMBER') {
      throw new MindsyncError('E_NOT_MEMBER', 'no vault on this relay knows that recovery code (check it, or the relay URL)')
    }
    if (e instanceof MindsyncError && e.code === 'E_REVOKED') {
      throw new MindsyncError('E_REVOKED', 'that recovery code was replaced by a newer one (or revoked); use the newest code')
    }
    throw e
  } finally {
    // The recovery keys live only as long as this call.
    await recovery.close()
  }
  await client.syncOnce(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
  return client
}
