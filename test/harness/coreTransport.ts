import type { Transport } from '@mindsync/client'
import { MindsyncError } from '@mindsync/protocol'
import type { ErrorCode } from '@mindsync/protocol'
import type { RelayCore } from '@mindsync/relay'

/**
 * A Transport straight into a relay core in the same process: the same
 * challenge, authentication and session code as over WebSocket, with each
 * frame delivered on a later turn (as a socket would), in order. For fast
 * property tests with many devices.
 */
export function createCoreTransport(core: RelayCore): Transport {
  return {
    async connect(request, handlers) {
      const { relayId, challenge } = await core.issueChallenge()
      const signature = request.signAuth(relayId, challenge)
      const result = await core.authenticate({ signPub: request.signPub, vaultId: request.vaultId, challenge, signature })
      if (!result.ok) throw new MindsyncError(result.code as ErrorCode, `relay refused the connection (${result.status}): ${result.message}`)
      let open = true
      const later = (fn: () => void): void => void setImmediate(fn)
      const session = core.openSession(result.auth, {
        send: (frame) => later(() => open && handlers.onFrame(frame)),
        close: (code, reason) => {
          if (!open) return
          open = false
          later(() => handlers.onClose(code, reason))
        },
        bufferedAmount: () => 0,
      })
      return {
        send: (frame) => later(() => open && session.receive(frame)),
        close: (code = 1000, reason = '') => {
          if (!open) return
          open = false
          session.closed()
          later(() => handlers.onClose(code, reason))
        },
      }
    },
  }
}
