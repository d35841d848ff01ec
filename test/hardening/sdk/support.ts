/**
 * What the SDK's hardening tests share: a watch on the process for errors
 * nobody caught (a throw out of a timer or an event handler, a rejection
 * nobody handled), seeded randomness so a failure can be replayed, and one
 * format for the counts a test achieved.
 */

/** Everything that reached the process uncaught while the watch was on */
export interface ProcessWatch {
  readonly failures: unknown[]
  stop(): void
}

export function watchProcess (): ProcessWatch {
  const failures: unknown[] = []
  const onFailure = (err: unknown): void => { failures.push(err) }
  process.on('unhandledRejection', onFailure)
  process.on('uncaughtException', onFailure)
  return {
    failures,
    stop () {
      process.off('unhandledRejection', onFailure)
      process.off('uncaughtException', onFailure)
    }
  }
}

/** mulberry32: the same sequence for the same seed everywhere */
export class Random {
  private state: number

  constructor (readonly seed: number) {
    this.state = seed >>> 0
  }

  /** In [0, 1) */
  next (): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [0, n) */
  int (n: number): number {
    return Math.floor(this.next() * n)
  }

  bytes (length: number): Uint8Array {
    const bytes = new Uint8Array(length)
    for (let i = 0; i < length; i++) bytes[i] = this.int(256)
    return bytes
  }
}

/** One line in the test output with what a test achieved */
export function report (test: string, counts: Record<string, number | string>): void {
  const parts = Object.entries(counts).map(([name, value]) => `${name}=${value}`)
  console.info(`[sdk hardening] ${test}: ${parts.join(', ')}`)
}
