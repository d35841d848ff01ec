/**
 * libp2p nodes for the load benchmarks: the point `createRendezvousPoint`
 * makes (as the command line runs it) and client nodes, TCP on loopback,
 * with ping as the baseline. Ping gets the same stream budget as the
 * rendezvous service: at its default (2 inbound streams per peer, as its
 * spec suggests), back-to-back pings on one connection are reset while the
 * previous stream is still closing, and a baseline that fails is none.
 */
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { rendezvousClient } from '../../src/index.ts'
import { createRendezvousPoint } from '../../src/server/index.ts'
import type { RendezvousClientService } from '../../src/client/rendezvous-client.ts'
import type { RendezvousPointNode, RendezvousServerInit } from '../../src/server/index.ts'
import type { Libp2p } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'

/** Concurrent streams per connection, per protocol, for every service here */
export const STREAMS = 64

export type PointNode = RendezvousPointNode
/** The client's class, not its public interface: the load benchmark signs raw REGISTERs with the client's own record */
export type ClientNode = Libp2p<{ rendezvous: RendezvousClientService, ping: Ping }>

export async function pointNode (init: RendezvousServerInit): Promise<PointNode> {
  return createRendezvousPoint({
    listen: ['/ip4/127.0.0.1/tcp/0'],
    rendezvous: { maxInboundStreams: STREAMS, ...init },
    ping: { maxInboundStreams: STREAMS, maxOutboundStreams: STREAMS }
  })
}

export async function clientNode (): Promise<ClientNode> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { rendezvous: rendezvousClient(), ping: ping({ maxInboundStreams: STREAMS, maxOutboundStreams: STREAMS }) }
  }) as Promise<ClientNode>
}
