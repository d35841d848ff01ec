/**
 * Values pushed by several producers, read by one consumer with `for await`.
 * The consumer ends when `end()` is called and everything pushed was read,
 * or throws once `fail()` is called.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly values: T[] = []
  private ended = false
  private error?: { cause: unknown }
  private wake?: () => void

  push (value: T): void {
    if (this.ended) return
    this.values.push(value)
    this.notify()
  }

  end (): void {
    this.ended = true
    this.notify()
  }

  fail (cause: unknown): void {
    this.error = { cause }
    this.end()
  }

  async * [Symbol.asyncIterator] (): AsyncGenerator<T> {
    while (true) {
      if (this.values.length > 0) {
        yield this.values.shift() as T
        continue
      }
      if (this.error != null) throw this.error.cause
      if (this.ended) return
      await new Promise<void>(resolve => { this.wake = resolve })
    }
  }

  private notify (): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}
