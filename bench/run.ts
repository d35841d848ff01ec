/**
 * `npm run bench`: every benchmark in turn, then the result as JSON in
 * bench/results/latest.json, the report on stdout and, after a full run
 * without failures, in bench/RESULTS.md.
 *
 *   npm run bench                          everything (a few minutes)
 *   npm run bench -- --only scale,bundle   some of them; RESULTS.md is left alone
 *
 * Runs under `node --expose-gc` (the memory benchmark needs a settled heap).
 * Progress goes to stderr, the report to stdout.
 */
import '../src/node/compat.ts'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { backgroundCost } from './background/background-cost.ts'
import { timeToConnection } from './browser/connect-time.ts'
import { timeToFirstPeer } from './browser/first-peer.ts'
import { bundleCost } from './bundle/bundle-cost.ts'
import { describeMachine } from './lib/machine.ts'
import { renderReport } from './lib/report.ts'
import { withTimeout } from './lib/stats.ts'
import { discoverBreakdown } from './point/breakdown.ts'
import { crowdAtPoint } from './point/crowd.ts'
import { departureCost } from './point/departure.ts'
import { discoverScale } from './point/discover-scale.ts'
import { pointLoad } from './point/load.ts'
import { memoryPerRegistration } from './point/memory.ts'
import type { BenchRun, Results } from './lib/results.ts'

interface Benchmark<K extends keyof Results = keyof Results> {
  name: K
  title: string
  run(): Promise<NonNullable<Results[K]>>
  /** Milliseconds it may take, when not BENCHMARK_TIMEOUT */
  timeout?: number
}

/** Its phases are bounded one by one (see crowd.ts); on a busy machine they add up to more than BENCHMARK_TIMEOUT */
const CROWD_TIMEOUT = 10 * 60_000

// memory first, while the heap holds nothing else; the browser last, the longest
const benchmarks: Benchmark[] = [
  { name: 'memory', title: 'point memory per registration at 100k', run: async () => memoryPerRegistration() },
  { name: 'breakdown', title: 'where the time of a request goes', run: async () => discoverBreakdown() },
  { name: 'scale', title: 'DISCOVER against namespace size', run: async () => discoverScale() },
  { name: 'departure', title: 'dropping a departed peer against store size, memory and Redis', run: async () => departureCost() },
  { name: 'load', title: 'the point under load, memory and Redis', run: async () => pointLoad() },
  { name: 'crowd', title: '1,000 browser-shaped peers at the point with default flags', run: async () => crowdAtPoint(), timeout: CROWD_TIMEOUT },
  { name: 'background', title: 'background cost of a hidden hour', run: async () => backgroundCost() },
  { name: 'bundle', title: 'bundle cost', run: async () => bundleCost() },
  { name: 'firstPeer', title: 'time to first peer in Chromium', run: async () => timeToFirstPeer() },
  { name: 'connect', title: 'time from peer to a relayed and to a direct connection in Chromium', run: async () => timeToConnection() }
]

/** Milliseconds one benchmark may take; each takes well under two minutes on two busy cores */
const BENCHMARK_TIMEOUT = 5 * 60_000

const { values } = parseArgs({ options: { only: { type: 'string' } } })
const only = values.only?.split(',').map(name => name.trim()).filter(name => name !== '')
const unknown = only?.filter(name => !benchmarks.some(b => b.name === name)) ?? []
if (unknown.length > 0) {
  console.error(`Unknown benchmark(s): ${unknown.join(', ')}. Known: ${benchmarks.map(b => b.name).join(', ')}`)
  process.exit(2)
}
const selected = benchmarks.filter(b => only == null || only.includes(b.name))

const startedAt = new Date()
const begin = performance.now()
const machine = describeMachine()
const results: Results = {}
let failed = false
for (const [i, benchmark] of selected.entries()) {
  const t0 = performance.now()
  console.error(`[${i + 1}/${selected.length}] ${benchmark.title}...`)
  try {
    (results as Record<string, unknown>)[benchmark.name] = await withTimeout(benchmark.run(), benchmark.timeout ?? BENCHMARK_TIMEOUT, benchmark.title)
    console.error(`      done in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  } catch (err: any) {
    failed = true
    console.error(`      FAILED after ${((performance.now() - t0) / 1000).toFixed(1)} s: ${err?.stack ?? err}`)
  }
}

const run: BenchRun = {
  startedAt: startedAt.toISOString(),
  duration: Math.round((performance.now() - begin) / 1000),
  machine,
  complete: !failed && selected.length === benchmarks.length,
  results
}
const report = renderReport(run)
const resultsDir = join(import.meta.dirname, 'results')
await mkdir(resultsDir, { recursive: true })
await writeFile(join(resultsDir, 'latest.json'), JSON.stringify(run, null, 2) + '\n')
if (run.complete) await writeFile(join(import.meta.dirname, 'RESULTS.md'), report)
console.log(report)
console.error(`Took ${(run.duration / 60).toFixed(1)} min. Wrote bench/results/latest.json${run.complete ? ' and bench/RESULTS.md' : ' (RESULTS.md is written by full runs only)'}.`)
// libp2p, vite and Playwright can leave handles behind that would keep the process alive
process.exit(failed ? 1 : 0)
