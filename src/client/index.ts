/**
 * @packageDocumentation
 *
 * The low-level rendezvous client (`libp2p-rendezvous/client`): one request
 * per call, to the point you name. Every record a point returns is verified
 * before you see it. For registering and discovering at several points with
 * refreshes, retries and a cache, use `rendezvousDiscovery` from the package
 * root instead.
 *
 * @example Talk to one rendezvous point
 *
 * ```TypeScript
 * import { createLibp2p } from 'libp2p'
 * import { multiaddr } from '@multiformats/multiaddr'
 * import { rendezvousClient } from 'libp2p-rendezvous/client'
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
 */
import { checkRuntime } from '../runtime.ts'
import { RendezvousClientService } from './rendezvous-client.ts'
import type { RendezvousClient, RendezvousClientComponents, RendezvousClientInit } from './api.ts'

export type { DiscoverAllOptions, DiscoverOptions, DiscoverResult, PeerInfoClient, PeerInfoSchema, RegisterOptions, Registration, RendezvousClient, RendezvousClientComponents, RendezvousClientInit, RequestsInit } from './api.ts'
export { peerInfoSchema } from './peer-info-schema.ts'

/** A low-level rendezvous client service: one request per call, to the point you name */
export function rendezvousClient (init: RendezvousClientInit = {}): (components: RendezvousClientComponents) => RendezvousClient {
  return (components) => {
    checkRuntime()
    return new RendezvousClientService(components, init)
  }
}
