/**
 * Runs in Node before the browser tests: a real rendezvous point over
 * WebSockets on loopback, which is also a circuit relay, so that browser
 * nodes (which cannot listen) get a relay address to register with, the way
 * they would in production. Its address reaches the tests through
 * `inject('rendezvousPoint')`.
 */
import '../../src/node/compat.ts'
import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { rendezvousServer } from '../../src/server/index.ts'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The point's WebSocket multiaddr, with /p2p/<id> */
    rendezvousPoint: string
  }
}

export default async function setup (project: TestProject): Promise<() => Promise<void>> {
  const point = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0/ws'] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // every browser node dials from 127.0.0.1, which libp2p would otherwise rate-limit as one busy host
    connectionManager: { inboundConnectionThreshold: Infinity, maxIncomingPendingConnections: 256 },
    services: {
      identify: identify(),
      relay: circuitRelayServer({ reservations: { maxReservations: 256 } }),
      // browser tests use short TTLs; a record always carries the relay address, so no empty ones
      rendezvous: rendezvousServer({ minTtl: 60 })
    }
  })
  project.provide('rendezvousPoint', point.getMultiaddrs()[0].toString())
  return async () => { await point.stop() }
}
