/** What the service hands each of its parts: its resolved settings, time, logging and events */
import type { Clock, RegistrationCacheFactory, RendezvousDiscoveryEvents, Visibility } from './api.ts'
import type { Backoff } from './timing/backoff.ts'
import type { DeadlineScheduler } from './timing/scheduler.ts'
import type { RequestsInit } from '../client/api.ts'
import type { Logger, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A rendezvous point: one peer, reachable at one or more addresses */
export interface Point {
  id: PeerId
  /** `id` as a string, for maps and logs */
  key: string
  /** Handed to libp2p's dialer as they are, so any transport the node has can reach them */
  addresses: Multiaddr[]
}

/** The options, resolved and checked (see `options.ts`) */
export interface Settings {
  points: Point[]
  /** Registered and polled from start */
  namespaces: string[]
  /** Seconds */
  ttl: number
  refreshRatio: number
  /** Milliseconds */
  discoverInterval: number
  fullDiscoverEvery: number
  limit: number
  maxPages: number
  /** Peers one point may bring into the view of one namespace */
  maxPeersPerPoint: number
  /** Milliseconds */
  timeout: number
  /** Milliseconds */
  unregisterTimeout: number
  backoff: Backoff
  allowEmptyAddresses: boolean
  addressFilter?(multiaddr: Multiaddr): boolean
  requests: RequestsInit
  /** Absent: nothing is cached */
  cache?: RegistrationCacheFactory
  clock: Clock
  visibility: Visibility
}

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
