/** Summary statistics for a set of timings, in the unit they were taken */
export interface Summary {
  n: number
  median: number
  p99: number
  min: number
  max: number
  /** Interquartile range: the spread of the middle half, robust to a noisy shared machine */
  iqr: number
}

function quantile (sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const index = (sorted.length - 1) * q
  const low = Math.floor(index)
  const high = Math.ceil(index)
  return sorted[low] + (sorted[high] - sorted[low]) * (index - low)
}

export function summarize (samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b)
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    iqr: quantile(sorted, 0.75) - quantile(sorted, 0.25)
  }
}

/** Milliseconds `fn` took */
export async function time (fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now()
  await fn()
  return performance.now() - start
}

/**
 * Run `fn` `count` times from `concurrency` workers, each taking the next
 * call as soon as its last one is done, collecting each call's milliseconds.
 * `worker` tells a call which worker runs it, so each can keep to its own
 * connection.
 */
export async function timeMany (count: number, concurrency: number, fn: (i: number, worker: number) => Promise<unknown>): Promise<{ samples: number[], wallMs: number }> {
  const samples: number[] = []
  let next = 0
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    while (next < count) {
      const i = next++
      samples.push(await time(async () => fn(i, worker)))
    }
  }))
  return { samples, wallMs: performance.now() - start }
}

/**
 * Take `rounds` samples of every named function, one of each per round and
 * in a rotating order, so that a burst of load from whatever else runs on
 * the machine falls on all of them alike instead of on whichever ran then.
 */
export async function interleaved<K extends string> (rounds: number, fns: Record<K, () => Promise<unknown>>): Promise<Record<K, number[]>> {
  const names = Object.keys(fns) as K[]
  const samples = Object.fromEntries(names.map(name => [name, [] as number[]])) as unknown as Record<K, number[]>
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length]
      samples[name].push(await time(fns[name]))
    }
  }
  return samples
}

/** `promise`, or a rejection naming `what` once `ms` have passed: no benchmark may hang the run */
export async function withTimeout<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`${what} did not finish within ${ms / 1000} s`)) }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** `attempt()`, and once more if it fails: one hiccup of a busy machine should not cost a whole benchmark */
export async function retryOnce<T> (attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt()
  } catch (err: any) {
    console.error(`      ${err?.message ?? err}; running it again`)
    return attempt()
  }
}

export function round (value: number, digits = 2): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}
