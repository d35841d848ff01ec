/**
 * The service's options, checked and resolved once, at construction: every
 * bad option is an `InvalidParametersError` that names it, and everything
 * after this works with the resolved `Settings` alone.
 */
import { InvalidParametersError } from '@libp2p/interface'
import { DEFAULT_REFRESH_RATIO, DEFAULT_REQUEST_TIMEOUT, DEFAULT_TTL } from '../constants.ts'
import { namespaceProblem } from '../protocol/namespace.ts'
import { idbCache } from './cache/idb-cache.ts'
import { memoryCache } from './cache/memory-cache.ts'
import {
  DEFAULT_DISCOVER_INTERVAL, DEFAULT_DISCOVER_LIMIT, DEFAULT_FULL_DISCOVER_EVERY, DEFAULT_MAX_PAGES, DEFAULT_MAX_PEERS,
  DEFAULT_MAX_RETRY_DELAY, DEFAULT_RETRY_DELAY, DEFAULT_UNREGISTER_TIMEOUT
} from './constants.ts'
import { parsePoints } from './points/points.ts'
import { Backoff } from './timing/backoff.ts'
import { systemClock } from './timing/clock.ts'
import { documentVisibility } from './timing/visibility.ts'
import type { Clock, RegistrationCacheFactory, RendezvousDiscoveryInit, Visibility } from './api.ts'
import type { Settings } from './context.ts'

function fail (message: string): never {
  throw new InvalidParametersError(message)
}

/** `value` when it is a positive number, `fallback` when it is absent */
export function positive (name: string, value: unknown, fallback: number): number {
  const resolved = value ?? fallback
  if (typeof resolved !== 'number' || !Number.isFinite(resolved) || resolved <= 0) fail(`${name} must be a positive number, got ${String(value)}`)
  return resolved
}

function count (name: string, value: unknown, fallback: number): number {
  return Math.floor(positive(name, value, fallback))
}

function optional<T> (name: string, value: T | undefined, is: (value: T) => boolean, what: string): T | undefined {
  if (value !== undefined && !is(value)) fail(`${name} must be ${what}, got ${typeof value}`)
  return value
}

const isFunction = (value: unknown): boolean => typeof value === 'function'
const isBoolean = (value: unknown): boolean => typeof value === 'boolean'
const isPeerInfoSchema = (value: any): boolean => typeof value?.client === 'function' && typeof value.readCached === 'function'

export function checkNamespace (namespace: unknown): asserts namespace is string {
  if (typeof namespace !== 'string') fail(`A namespace must be a string, got ${typeof namespace}`)
  const problem = namespaceProblem(namespace)
  if (problem != null) fail(`Invalid namespace "${namespace}": ${problem}`)
}

function protocols (value: unknown): string | string[] | undefined {
  const ok = value === undefined || typeof value === 'string' ||
    (Array.isArray(value) && value.length > 0 && value.every(p => typeof p === 'string'))
  if (!ok) fail('protocol must be a protocol id or a list of them')
  return value as string | string[] | undefined
}

function clockOf (value: Clock | undefined): Clock {
  if (value === undefined) return systemClock
  if (typeof value?.now !== 'function' || typeof value.setTimeout !== 'function' || typeof value.clearTimeout !== 'function') {
    fail('clock must have now(), setTimeout() and clearTimeout()')
  }
  return value
}

function visibilityOf (value: Visibility | undefined): Visibility {
  if (value === undefined) return documentVisibility()
  if (typeof value?.subscribe !== 'function') fail('visibility must have subscribe()')
  return value
}

function cacheOf (value: RegistrationCacheFactory | false | undefined): RegistrationCacheFactory | undefined {
  if (value === false) return undefined
  if (value === undefined) return globalThis.indexedDB != null ? idbCache() : memoryCache()
  if (typeof value !== 'function') fail('cache must be idbCache(), memoryCache(), another cache factory, or false')
  return value
}

export function resolveSettings (init: RendezvousDiscoveryInit): Settings {
  if (init == null || typeof init !== 'object') fail('rendezvousDiscovery needs its options, with at least `points`')
  if (!Array.isArray(init.points)) fail('points must be a list of rendezvous point multiaddrs')
  const points = parsePoints(init.points)
  if (points.length === 0) fail('At least one rendezvous point is needed')
  const namespaces = init.namespaces ?? []
  if (!Array.isArray(namespaces)) fail('namespaces must be a list of namespaces')
  namespaces.forEach(checkNamespace)

  const refreshRatio = init.refreshRatio ?? DEFAULT_REFRESH_RATIO
  if (typeof refreshRatio !== 'number' || !(refreshRatio > 0 && refreshRatio < 1)) fail(`refreshRatio must lie between 0 and 1, got ${refreshRatio}`)
  const timeout = positive('timeout', init.timeout, DEFAULT_REQUEST_TIMEOUT)
  return {
    points,
    namespaces: [...new Set(namespaces)],
    ttl: positive('ttl', init.ttl, DEFAULT_TTL),
    refreshRatio,
    discoverInterval: positive('discoverInterval', init.discoverInterval, DEFAULT_DISCOVER_INTERVAL),
    fullDiscoverEvery: count('fullDiscoverEvery', init.fullDiscoverEvery, DEFAULT_FULL_DISCOVER_EVERY),
    limit: count('limit', init.limit, DEFAULT_DISCOVER_LIMIT),
    maxPages: count('maxPages', init.maxPages, DEFAULT_MAX_PAGES),
    // each point gets its share, so one hostile point cannot crowd out the peers of the others
    maxPeersPerPoint: Math.ceil(positive('maxPeers', init.maxPeers, DEFAULT_MAX_PEERS) / points.length),
    timeout,
    unregisterTimeout: positive('unregisterTimeout', init.unregisterTimeout, DEFAULT_UNREGISTER_TIMEOUT),
    backoff: new Backoff({
      initial: positive('retryDelay', init.retryDelay, DEFAULT_RETRY_DELAY),
      max: positive('maxRetryDelay', init.maxRetryDelay, DEFAULT_MAX_RETRY_DELAY)
    }),
    allowEmptyAddresses: optional('allowEmptyAddresses', init.allowEmptyAddresses, isBoolean, 'true or false') ?? false,
    addressFilter: optional('addressFilter', init.addressFilter, isFunction, 'a function'),
    requests: {
      protocol: protocols(init.protocol),
      timeout,
      legacyUnregisterId: optional('legacyUnregisterId', init.legacyUnregisterId, isBoolean, 'true or false'),
      uncertifiedPeers: optional('uncertifiedPeers', init.uncertifiedPeers, isPeerInfoSchema, 'peerInfoSchema()')
    },
    cache: cacheOf(init.cache),
    clock: clockOf(init.clock),
    visibility: visibilityOf(init.visibility)
  }
}
