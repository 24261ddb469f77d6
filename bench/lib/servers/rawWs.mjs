// The floor: a plain `ws` server that forwards every binary message to the other sockets of the
// same room (URL path), one frame per message, and keeps the room's messages in memory so a
// new socket gets them replayed (a log relay without crypto, storage or Yjs).
import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'

export async function start() {
  const rooms = new Map()
  const server = createServer((_req, res) => res.end('raw'))
  const wss = new WebSocketServer({ server })
  wss.on('connection', (ws, req) => {
    const name = (req.url ?? '/').slice(1).split('?')[0]
    let room = rooms.get(name)
    if (!room) rooms.set(name, (room = { sockets: new Set(), log: [] }))
    for (const m of room.log) ws.send(m)
    room.sockets.add(ws)
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return
      room.log.push(data)
      for (const other of room.sockets) if (other !== ws) other.send(data)
    })
    ws.on('close', () => room.sockets.delete(ws))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    stats: () => ({ rooms: rooms.size }),
    close: async () => {
      for (const ws of wss.clients) ws.terminate()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
