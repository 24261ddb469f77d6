// Raw `ws` floor: every local Yjs update is sent as one binary message, every received message
// applied with Y.applyUpdate. No protocol, no crypto.
import * as Y from 'yjs'

export function createSystem({ url, room }) {
  return {
    name: 'raw-ws',
    device(ydoc, { WebSocket }) {
      let ws
      const onUpdate = (update, origin) => {
        if (origin !== ws && ws?.readyState === 1) ws.send(update)
      }
      return {
        ydoc,
        async prepare() {},
        async connect() {
          ws = new WebSocket(`${url}/${room}`)
          ws.binaryType = 'arraybuffer'
          ws.on('message', (data) => Y.applyUpdate(ydoc, new Uint8Array(data), ws))
          ydoc.on('update', onUpdate)
          await new Promise((resolve, reject) => {
            ws.once('open', resolve)
            ws.once('error', reject)
          })
        },
        async settled() {},
        async close() {
          ydoc.off('update', onUpdate)
          ws?.close()
        },
      }
    },
  }
}
