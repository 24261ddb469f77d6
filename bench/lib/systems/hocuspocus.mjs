// Hocuspocus provider (4.7.0) against @hocuspocus/server 4.7.0; one WebSocket per device,
// `ws` passed as the WebSocket implementation.
import { HocuspocusProvider } from '@hocuspocus/provider'

export function createSystem({ url, room }) {
  return {
    name: 'hocuspocus',
    device(ydoc, { WebSocket }) {
      let provider
      return {
        ydoc,
        async prepare() {},
        async connect() {
          await new Promise((resolve) => {
            provider = new HocuspocusProvider({ url, name: room, document: ydoc, WebSocketPolyfill: WebSocket, onSynced: () => resolve() })
          })
        },
        async settled() {},
        async close() {
          provider?.destroy()
        },
      }
    },
  }
}
