/**
 * libp2p nodes for the load benchmarks: TCP on loopback, with ping as the
 * baseline. Unlike the test fixtures' nodes, ping gets the same stream budget
 * as the rendezvous service: at its default (2 inbound streams per peer, as
 * its spec suggests), back-to-back pings on one connection are reset while
 * the previous stream is still closing, and a baseline that fails is none.
 */
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { rendezvousClient } from '../../src/index.ts'
import { rendezvousServer } from '../../src/server/index.ts'
import type { RendezvousClientService } from '../../src/client/rendezvous-client.ts'
import type { RendezvousServer, RendezvousServerInit } from '../../src/server/index.ts'
import type { Libp2p, ServiceMap } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'

/** Concurrent streams per connection, per protocol, for every service here */
export const STREAMS = 64

async function benchNode<S extends ServiceMap> (services: { [K in keyof S]: (components: any) => S[K] }): Promise<Libp2p<S & { ping: Ping }>> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // every client dials from 127.0.0.1, which libp2p would otherwise rate-limit as one busy host
    connectionManager: { inboundConnectionThreshold: Infinity, maxIncomingPendingConnections: 256 },
    services: { ...services, ping: ping({ maxInboundStreams: STREAMS, maxOutboundStreams: STREAMS }) } as any
  }) as Promise<Libp2p<S & { ping: Ping }>>
}

export type PointNode = Libp2p<{ rendezvous: RendezvousServer, ping: Ping }>
/** The client's class, not its public interface: the load benchmark signs raw REGISTERs with the client's own record */
export type ClientNode = Libp2p<{ rendezvous: RendezvousClientService, ping: Ping }>

export async function pointNode (init: RendezvousServerInit): Promise<PointNode> {
  return benchNode({ rendezvous: rendezvousServer({ maxInboundStreams: STREAMS, ...init }) })
}

export async function clientNode (): Promise<ClientNode> {
  return benchNode({ rendezvous: rendezvousClient() }) as Promise<ClientNode>
}
