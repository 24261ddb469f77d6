/** A tiny typed event emitter: `on` returns the function that unsubscribes. */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<(e: never) => void>>()

  on<K extends keyof Events>(name: K, listener: (event: Events[K]) => void): () => void {
    let set = this.listeners.get(name)
    if (!set) this.listeners.set(name, (set = new Set()))
    set.add(listener as (e: never) => void)
    return () => set.delete(listener as (e: never) => void)
  }

  emit<K extends keyof Events>(name: K, event: Events[K]): void {
    for (const l of this.listeners.get(name) ?? []) {
      try {
        ;(l as (e: Events[K]) => void)(event)
      } catch (err) {
        // A listener's bug must not break sync; surface it asynchronously.
        queueMicrotask(() => {
          throw err
        })
      }
    }
  }
}

/** Callers waiting for the next answer of one kind; all fail together when the connection goes. */
export class Waiters<T> {
  private pending: { resolve(v: T): void; reject(e: Error): void }[] = []

  wait(): Promise<T> {
    return new Promise<T>((resolve, reject) => this.pending.push({ resolve, reject }))
  }

  resolveAll(value: T): void {
    for (const w of this.pending.splice(0)) w.resolve(value)
  }

  rejectAll(error: Error): void {
    for (const w of this.pending.splice(0)) w.reject(error)
  }
}
