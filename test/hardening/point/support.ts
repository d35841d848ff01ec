/**
 * What every hardening test of the point needs: a seeded random source that
 * makes a failure reproducible, a watch for promises nobody handled, the
 * garbage collector on demand, and a way to report what a test achieved.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * mulberry32: tiny, fast, and the same sequence for the same seed on every
 * machine, which is all a fuzzer needs from its randomness.
 */
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

  /** An integer in [min, max] */
  between (min: number, max: number): number {
    return min + this.int(max - min + 1)
  }

  chance (p: number): boolean {
    return this.next() < p
  }

  pick<T> (items: readonly T[]): T {
    return items[this.int(items.length)]
  }

  bytes (length: number): Uint8Array {
    const bytes = new Uint8Array(length)
    for (let i = 0; i < length; i++) bytes[i] = this.int(256)
    return bytes
  }

  /** A uint64 that is small, huge or anything between, as hostile input tends to be */
  uint64 (): bigint {
    switch (this.int(5)) {
      case 0: return BigInt(this.int(4))
      case 1: return BigInt(this.int(1 << 20))
      case 2: return 2n ** 64n - 1n - BigInt(this.int(3))
      case 3: return 2n ** BigInt(this.between(31, 63)) + BigInt(this.int(3)) - 1n
      default: return (BigInt(this.int(2 ** 32)) << 32n) | BigInt(this.int(2 ** 32))
    }
  }
}

/**
 * The seed for this run: `HARDENING_SEED` to replay a failure, otherwise a
 * fresh one. Tests print it, so a red run can be repeated exactly.
 */
export function seedFromEnv (): number {
  const given = process.env.HARDENING_SEED
  if (given != null && given !== '') return Number(given) >>> 0
  return Math.floor(Math.random() * 2 ** 32) >>> 0
}

export interface RejectionWatch {
  /** Reasons of every rejection no one handled, and every uncaught exception, since the watch began */
  readonly seen: unknown[]
  stop(): void
}

/** Collect unhandled rejections and uncaught exceptions (observed only; vitest still sees them) */
export function watchUnhandled (): RejectionWatch {
  const seen: unknown[] = []
  const onRejection = (reason: unknown): void => { seen.push(reason) }
  const onException = (err: unknown): void => { seen.push(err) }
  process.on('unhandledRejection', onRejection)
  process.on('uncaughtExceptionMonitor', onException)
  return {
    seen,
    stop () {
      process.off('unhandledRejection', onRejection)
      process.off('uncaughtExceptionMonitor', onException)
    }
  }
}

let gc: (() => void) | undefined

/**
 * The collector, whether or not node was started with --expose-gc: the flag
 * can be set at run time, and a fresh context then sees the `gc` global.
 */
function collector (): () => void {
  if (gc != null) return gc
  const global = globalThis as { gc?: () => void }
  if (typeof global.gc === 'function') {
    gc = global.gc
  } else {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as () => void
  }
  return gc
}

/**
 * Bytes held after a full collection: the JS heap plus the memory behind
 * ArrayBuffers, where records, cookies and frames live. Collected a few
 * times over a few turns of the event loop, so that what finished promises
 * and closed streams let go of is really gone.
 */
export async function retainedBytes (): Promise<number> {
  const collect = collector()
  for (let i = 0; i < 4; i++) {
    collect()
    await new Promise(resolve => setImmediate(resolve))
  }
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}

export const MiB = 1024 * 1024

export function mib (bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`
}

/** The value below which `share` of the sorted samples lie (nearest rank) */
export function percentile (sorted: readonly number[], share: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))]
}

/** One line a person can read in the test output: what the test achieved */
export function report (title: string, counts: Record<string, unknown>): void {
  const text = Object.entries(counts).map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`).join(' ')
  console.info(`[hardening] ${title}: ${text}`)
}

/** Run `work` over `items` with at most `limit` at a time */
export async function inBatches<T, R> (items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await work(items[index], index)
    }
  }))
  return results
}
