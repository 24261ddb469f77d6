// Stock Hocuspocus 4.7 server: default configuration (in-memory documents, no extensions,
// broadcasts coalesced per event-loop turn), quiet and without signal handlers.
import { Server } from '@hocuspocus/server'

export async function start() {
  const server = new Server({ address: '127.0.0.1', port: 0, quiet: true, stopOnSignals: false })
  await server.listen()
  const { port } = server.address
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    stats: () => ({ docs: server.hocuspocus.getDocumentsCount(), connections: server.hocuspocus.getConnectionsCount() }),
    close: () => server.destroy(),
  }
}
