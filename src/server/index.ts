/**
 * @packageDocumentation
 *
 * A spec-complete libp2p rendezvous point (`/rendezvous/1.0.0`) as a js-libp2p
 * service. It validates every registration's signed peer record, enforces TTL,
 * namespace and per-peer limits, pages DISCOVER results with stateless cookies
 * and drops expired registrations, and those of peers that left when nothing
 * but its own relay could reach them; storage sits behind `RegistrationStore`.
 *
 * @example
 *
 * ```TypeScript
 * import { createLibp2p } from 'libp2p'
 * import { rendezvousServer } from 'libp2p-rendezvous/server'
 *
 * const node = await createLibp2p({
 *   // transports, connectionEncrypters, streamMuxers...
 *   services: { rendezvous: rendezvousServer({ minTtl: 120 }) }
 * })
 *
 * console.info(await node.services.rendezvous.getNamespaceStats())
 * ```
 */
import { RendezvousPoint } from './rendezvous-server.ts'
import type { RendezvousServer, RendezvousServerComponents, RendezvousServerInit } from './rendezvous-server.ts'

export type { RendezvousServer, RendezvousServerComponents, RendezvousServerInit, ServedRequest } from './rendezvous-server.ts'
export type { PointPolicy } from './handle-request.ts'
export type { DiscoverOptions, DiscoverPage, NewRegistration, RegisterOutcome, RegistrationLimits, RegistrationStore, StoredRegistration } from './store/registration-store.ts'
export { StoreUnavailableError } from './store/registration-store.ts'
export { MemoryRegistrationStore, memoryStore } from './store/memory-store.ts'
export { RedisRegistrationStore, redisStore, StoreConnectionError } from './store/redis-store.ts'
export type { RedisStoreInit } from './store/redis-store.ts'
export { openStore } from './store/from-url.ts'
export type { OpenedStore, OpenStoreOptions } from './store/from-url.ts'
export { RENDEZVOUS_PROTOCOL } from '../constants.ts'
export { createRendezvousPoint, DEFAULT_LIMITS, KeyFileError, loadOrCreateKey, MissingDependencyError, webSocketGuard } from './point/index.ts'
export type { PointLimits, RendezvousPointInit, RendezvousPointLimits, RendezvousPointNode, RendezvousPointService, RendezvousPointServices, RendezvousPointStats } from './point/index.ts'

/** A rendezvous point service for a libp2p node */
export function rendezvousServer (init: RendezvousServerInit = {}): (components: RendezvousServerComponents) => RendezvousServer {
  return (components) => new RendezvousPoint(components, init)
}
