/**
 * The discovery service's factory, the one libp2p calls, and everything of
 * it that is public. The class itself stays internal.
 */
import { RendezvousDiscoveryService } from './rendezvous-discovery.ts'
import type { RendezvousDiscovery, RendezvousDiscoveryComponents, RendezvousDiscoveryInit } from './api.ts'

export type {
  CachedRegistration, Clock, DiscoveredPeer, FindPeersOptions, PageLifecycleEvent, PeerRemovalReason, PeerSource, PeerViewRemoval, PeerViewUpdate,
  PointState, PointStatus, RegistrationCache, RegistrationCacheFactory, RegistrationState, RegistrationStatus, RendezvousDiscovery,
  RendezvousDiscoveryComponents, RendezvousDiscoveryEvents, RendezvousDiscoveryInit, TimerId, Unregistered, Visibility
} from './api.ts'
export type { IdbCacheInit } from './cache/idb-cache.ts'
export { memoryCache } from './cache/memory-cache.ts'
export { idbCache } from './cache/idb-cache.ts'
export { systemClock } from './timing/clock.ts'
export { alwaysVisible, documentVisibility } from './timing/visibility.ts'
export { AllPointsFailedError, PointsDeniedError } from './errors.ts'

/**
 * A libp2p service that makes this node findable in rendezvous namespaces
 * and finds the peers registered in them. Put it under `services` to reach
 * its methods as `node.services.<name>`, or in `peerDiscovery`.
 */
export function rendezvousDiscovery (init: RendezvousDiscoveryInit): (components: RendezvousDiscoveryComponents) => RendezvousDiscovery {
  return (components) => new RendezvousDiscoveryService(components, init)
}
