import { JITTER } from '../constants.ts'

export interface BackoffInit {
  /** Milliseconds before the first retry */
  initial: number
  /** Milliseconds the delay grows to at most */
  max: number
  /** @default Math.random */
  random?(): number
}

/**
 * Exponential backoff with jitter. It keeps no counts: each thing that
 * retries (a point, a registration, a poll) counts its own failures in a row,
 * so that one failing point never slows down the others.
 */
export class Backoff {
  /** Milliseconds before the first retry */
  readonly initial: number
  readonly #max: number
  readonly #random: () => number

  constructor (init: BackoffInit) {
    this.initial = init.initial
    this.#max = init.max
    this.#random = init.random ?? Math.random
  }

  /** Milliseconds to wait after `failures` failures in a row (1 for the first) */
  delay (failures: number): number {
    const delay = Math.min(this.initial * 2 ** (Math.max(failures, 1) - 1), this.#max)
    // take up to half off, so that clients failing together do not retry together
    return delay * (1 - this.#random() * 0.5)
  }
}

/** `delay` less up to `JITTER` of it at random */
export function jitter (delay: number): number {
  return delay * (1 - Math.random() * JITTER)
}
