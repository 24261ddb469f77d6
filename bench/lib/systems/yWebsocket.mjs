// y-websocket client (3.1.0) against @y/websocket-server; BroadcastChannel off so that
// devices in one process talk only through the server.
import { WebsocketProvider } from 'y-websocket'

export function createSystem({ url, room }) {
  return {
    name: 'y-websocket',
    device(ydoc, { WebSocket }) {
      let provider
      return {
        ydoc,
        async prepare() {},
        async connect() {
          provider = new WebsocketProvider(url, room, ydoc, { WebSocketPolyfill: WebSocket, disableBc: true })
          await new Promise((resolve) => {
            const onSync = (synced) => {
              if (!synced) return
              provider.off('sync', onSync)
              resolve()
            }
            provider.on('sync', onSync)
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
