// A `ws` WebSocket that counts the payload bytes it sends and receives (WebSocket message
// payloads, without frame headers or the HTTP upgrade), for the "bytes transferred" figures.
import WebSocket from 'ws'

const sizeOf = (data) => {
  if (typeof data === 'string') return Buffer.byteLength(data)
  if (Array.isArray(data)) return data.reduce((n, d) => n + d.length, 0)
  return data.byteLength ?? data.length ?? 0
}

/** A traffic counter and a WebSocket class that adds to it; `traffic.onSend`, when set, is called before each send. */
export function countingWebSocket() {
  const traffic = { in: 0, out: 0, messagesIn: 0, messagesOut: 0, onSend: undefined }
  class CountingWebSocket extends WebSocket {
    constructor(...args) {
      super(...args)
      this.on('message', (data) => {
        traffic.in += sizeOf(data)
        traffic.messagesIn++
      })
    }

    send(data, ...rest) {
      traffic.onSend?.()
      traffic.out += sizeOf(data)
      traffic.messagesOut++
      return super.send(data, ...rest)
    }
  }
  return { traffic, WebSocket: CountingWebSocket }
}
