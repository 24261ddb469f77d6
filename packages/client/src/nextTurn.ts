/**
 * Runs `fn` once the current turn of the event loop and its microtasks are
 * over: after every change an app makes in one go, before any timer. Node
 * (and Bun) have setImmediate; browsers do not, and their setTimeout(0) is
 * clamped to 4 ms once nested, so there a message to a MessageChannel does
 * it. Returns a function that cancels the call.
 */
export function nextTurn(fn: () => void): () => void {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown; clearImmediate?: (h: unknown) => void }
  if (g.setImmediate && g.clearImmediate) {
    const handle = g.setImmediate(fn)
    return () => g.clearImmediate?.(handle)
  }
  if (typeof MessageChannel === 'function') return viaChannel(fn)
  const handle = setTimeout(fn, 0)
  return () => clearTimeout(handle)
}

interface Task {
  fn: () => void
  cancelled: boolean
}

let queue: Task[] = []
let port: MessagePort | undefined

/** One channel for every call: the tasks posted in one turn run together in the next. */
function viaChannel(fn: () => void): () => void {
  if (!port) {
    const channel = new MessageChannel()
    channel.port1.onmessage = () => {
      const due = queue
      queue = []
      for (const t of due) if (!t.cancelled) t.fn()
    }
    port = channel.port2
    // Where ports hold a process open (Node), a pending call must not.
    ;(channel.port1 as { unref?(): void }).unref?.()
  }
  const task: Task = { fn, cancelled: false }
  queue.push(task)
  if (queue.length === 1) port.postMessage(null)
  return () => {
    task.cancelled = true
  }
}
