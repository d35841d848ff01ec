/**
 * @packageDocumentation
 *
 * Find peers through libp2p rendezvous points (`/rendezvous/1.0.0`), from the
 * browser or from Node. Registrations carry our own signed peer record, and
 * every record a point returns is verified before it is used.
 *
 * The low-level client, one request per call to the point you name, lives
 * in `libp2p-rendezvous/client` (its factory is also exported here); the
 * rendezvous point itself lives in `libp2p-rendezvous/server`, so that nothing
 * of it reaches a browser bundle. On Node 20, import
 * `libp2p-rendezvous/node-compat` before anything else.
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
export { peerInfoSchema, rendezvousClient } from './client/index.ts'
export type { DiscoverAllOptions, DiscoverOptions, DiscoverResult, PeerInfoSchema, RegisterOptions, Registration, RendezvousClient, RendezvousClientComponents, RendezvousClientInit } from './client/index.ts'
export * from './errors.ts'
export { DEFAULT_TTL, MAX_DISCOVER_LIMIT, MAX_NAMESPACE_LENGTH, MAX_TTL, RENDEZVOUS_PROTOCOL } from './constants.ts'
export { rendezvousDiscovery, memoryCache, idbCache, systemClock, alwaysVisible, documentVisibility, AllPointsFailedError, PointsDeniedError } from './discovery/index.ts'
export type {
  RendezvousDiscovery, RendezvousDiscoveryInit, RendezvousDiscoveryComponents, RendezvousDiscoveryEvents, FindPeersOptions,
  PeerViewUpdate, PeerViewRemoval, PeerRemovalReason, Unregistered, DiscoveredPeer, PeerSource, RegistrationState, RegistrationStatus,
  PointState, PointStatus, CachedRegistration, RegistrationCache, RegistrationCacheFactory, IdbCacheInit, Clock, TimerId, PageLifecycleEvent, Visibility
} from './discovery/index.ts'
