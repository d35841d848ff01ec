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

/** Run `fn` `count` times, `concurrency` at a time, collecting each call's milliseconds */
export async function timeMany (count: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<{ samples: number[], wallMs: number }> {
  const samples: number[] = []
  let next = 0
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++
      samples.push(await time(async () => fn(i)))
    }
  }))
  return { samples, wallMs: performance.now() - start }
}

export function round (value: number, digits = 2): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}
