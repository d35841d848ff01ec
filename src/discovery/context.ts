/** What the service hands each of its parts */
import type { RendezvousDiscoveryEvents } from './api.ts'
import type { Settings } from './options.ts'
import type { Clock } from './timing/clock.ts'
import type { DeadlineScheduler } from './timing/scheduler.ts'
import type { Logger, PeerId } from '@libp2p/interface'

/** Dispatch an event on the service; nothing leaves while it is stopped */
export type Emit = <K extends keyof RendezvousDiscoveryEvents>(type: K, detail: RendezvousDiscoveryEvents[K]['detail']) => void

/** For the service's whole life */
export interface Context {
  /** Our own peer id */
  self: PeerId
  log: Logger
  clock: Clock
  settings: Settings
  emit: Emit
}

/** One run of the service, from `afterStart()` to `stop()`: nothing is sent or scheduled outside one */
export interface Run {
  scheduler: DeadlineScheduler
  /** Aborts on stop */
  signal: AbortSignal
}
