/**
 * @packageDocumentation
 *
 * Find peers through libp2p rendezvous points (`/rendezvous/1.0.0`), from the
 * browser or from Node. Registrations carry our own signed peer record, and
 * every record a point returns is verified before it is used.
 *
 * The rendezvous point itself lives in `libp2p-rendezvous/server`, so that
 * nothing of it reaches a browser bundle.
 *
 * @example Talk to one rendezvous point
 *
 * ```TypeScript
 * import { createLibp2p } from 'libp2p'
 * import { multiaddr } from '@multiformats/multiaddr'
 * import { rendezvousClient } from 'libp2p-rendezvous'
 *
 * const node = await createLibp2p({
 *   // transports, connectionEncrypters, streamMuxers...
 *   services: { rendezvous: rendezvousClient() }
 * })
 * const point = multiaddr('/dns4/rdv.example.com/tcp/443/wss/p2p/12D3KooW...')
 *
 * const ttl = await node.services.rendezvous.register(point, 'my-app')
 * for await (const registration of node.services.rendezvous.discoverAll(point, 'my-app')) {
 *   console.info(registration.peerId.toString(), registration.multiaddrs)
 * }
 * ```
 *
 * @example Find and be found through rendezvous points, in a browser
 *
 * ```TypeScript
 * import { createLibp2p } from 'libp2p'
 * import { rendezvousDiscovery } from 'libp2p-rendezvous'
 *
 * const node = await createLibp2p({
 *   // transports, connectionEncrypters, streamMuxers...
 *   services: {
 *     rendezvous: rendezvousDiscovery({
 *       points: ['/dns4/rdv.example.com/tcp/443/wss/p2p/12D3KooW...'],
 *       namespaces: ['my-app']
 *     })
 *   }
 * })
 *
 * node.services.rendezvous.addEventListener('peer', (evt) => {
 *   console.info('found', evt.detail.id.toString())
 * })
 * ```
 */
import { RendezvousClient } from './client/rendezvous-client.ts'
import type { RendezvousClientComponents, RendezvousClientInit } from './client/rendezvous-client.ts'

export type { DiscoverAllOptions, DiscoverOptions, DiscoverResult, RegisterOptions, Registration, RendezvousClientComponents, RendezvousClientInit } from './client/rendezvous-client.ts'
export { RendezvousClient } from './client/rendezvous-client.ts'
export * from './errors.ts'
export { DEFAULT_TTL, MAX_DISCOVER_LIMIT, MAX_NAMESPACE_LENGTH, MAX_TTL, RENDEZVOUS_PROTOCOL } from './constants.ts'
export { rendezvousDiscovery, memoryCache, idbCache, systemClock, alwaysVisible, documentVisibility, AllPointsFailedError } from './discovery/index.ts'
export type {
  RendezvousDiscovery, RendezvousDiscoveryInit, RendezvousDiscoveryComponents, RendezvousDiscoveryEvents, FindPeersOptions,
  PeerViewUpdate, PeerViewRemoval, PeerRemovalReason, Unregistered, DiscoveredPeer, PeerSource, RegistrationState, RegistrationStatus,
  CachedRegistration, RegistrationCache, RegistrationCacheFactory, IdbCacheInit, Clock, TimerId, PageLifecycleEvent, Visibility
} from './discovery/index.ts'

/** A low-level rendezvous client service: one request per call, to the point you name */
export function rendezvousClient (init: RendezvousClientInit = {}): (components: RendezvousClientComponents) => RendezvousClient {
  return (components) => new RendezvousClient(components, init)
}
