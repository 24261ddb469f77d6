/** Runs work one step at a time, in order. A step that fails rejects to its caller; the steps after it still run. */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve()

  run(work: () => void | Promise<void>): Promise<void> {
    const step = this.tail.then(work)
    this.tail = step.catch(() => undefined)
    return step
  }

  /** Resolves once every step queued so far has settled. */
  idle(): Promise<void> {
    return this.tail
  }
}
