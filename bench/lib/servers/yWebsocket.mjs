// The stock y-websocket server (@y/websocket-server 0.1.1, its src/server.js wiring): one in-memory
// Y.Doc per room, no persistence (YPERSISTENCE unset), updates broadcast one frame per message.
import { createServer } from 'node:http'
import { setupWSConnection, docs } from '@y/websocket-server/utils'
import { WebSocketServer } from 'ws'

export async function start() {
  const wss = new WebSocketServer({ noServer: true })
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' })
    res.end('okay')
  })
  wss.on('connection', setupWSConnection)
  server.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    stats: () => ({ docs: docs.size }),
    close: async () => {
      for (const ws of wss.clients) ws.terminate()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
