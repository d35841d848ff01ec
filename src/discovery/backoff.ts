import { JITTER } from './constants.ts'

export interface BackoffInit {
  /** Milliseconds before the first retry */
  initial: number
  /** Milliseconds the delay grows to at most */
  max: number
  /** @default Math.random */
  random?(): number
}

/**
 * Exponential backoff with jitter, counted per key (a point, or a point and
 * namespace), so that one failing point never slows down the others.
 */
export class Backoff {
  /** Milliseconds before the first retry */
  readonly initial: number
  private readonly max: number
  private readonly random: () => number
  private readonly failures = new Map<string, number>()

  constructor (init: BackoffInit) {
    this.initial = init.initial
    this.max = init.max
    this.random = init.random ?? Math.random
  }

  /** Count a failure for `key`; resolves the milliseconds to wait before trying again */
  failure (key: string): number {
    const count = (this.failures.get(key) ?? 0) + 1
    this.failures.set(key, count)
    const delay = Math.min(this.initial * 2 ** (count - 1), this.max)
    // take up to half off, so that clients failing together do not retry together
    return delay * (1 - this.random() * 0.5)
  }

  success (key: string): void {
    this.failures.delete(key)
  }

  /** Failures in a row for `key` */
  count (key: string): number {
    return this.failures.get(key) ?? 0
  }

  clear (): void {
    this.failures.clear()
  }
}

/** `delay` less up to `JITTER` of it at random */
export function jitter (delay: number, random: () => number = Math.random): number {
  return delay * (1 - random() * JITTER)
}
