/** One run of `npm run bench`, as written to bench/results/latest.json */
import type { BackgroundResult } from '../background/background-cost.ts'
import type { ConnectTimeResult } from '../browser/connect-time.ts'
import type { FirstPeerResult } from '../browser/first-peer.ts'
import type { BundleResult } from '../bundle/bundle-cost.ts'
import type { BreakdownResult } from '../point/breakdown.ts'
import type { CrowdResult } from '../point/crowd-result.ts'
import type { DepartureResult } from '../point/departure.ts'
import type { ScaleResult } from '../point/discover-scale.ts'
import type { LoadResult } from '../point/load.ts'
import type { MemoryResult } from '../point/memory.ts'
import type { Machine } from './machine.ts'

export interface Results {
  memory?: MemoryResult
  breakdown?: BreakdownResult
  scale?: ScaleResult
  departure?: DepartureResult
  load?: LoadResult
  crowd?: CrowdResult
  background?: BackgroundResult
  bundle?: BundleResult
  firstPeer?: FirstPeerResult
  connect?: ConnectTimeResult
}

export interface BenchRun {
  /** ISO date and time the run began */
  startedAt: string
  /** Seconds, the whole run */
  duration: number
  machine: Machine
  /** Every benchmark ran */
  complete: boolean
  results: Results
}
