/**
 * The point the browser dials: a libp2p node in this process, over
 * WebSockets on loopback, with identify (the browser node runs it too) and
 * the rendezvous service, holding real registrations of real peers.
 */
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { memoryStore, rendezvousServer } from '../../src/server/index.ts'
import { registerPeers } from '../lib/peers.ts'
import type { RealPeer } from '../lib/peers.ts'
import type { Libp2p } from '@libp2p/interface'

export interface BenchPoint {
  node: Libp2p
  /** The WebSocket multiaddr with /p2p/<id> */
  address: string
  peerId: string
}

export async function startBenchPoint (namespace: string, peers: RealPeer[], expiresAt: number): Promise<BenchPoint> {
  const store = memoryStore()
  await registerPeers(store, namespace, peers, expiresAt)
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0/ws'] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // every run dials from 127.0.0.1, which libp2p would otherwise rate-limit as one busy host
    connectionManager: { inboundConnectionThreshold: Infinity },
    services: { identify: identify(), rendezvous: rendezvousServer({ store }) }
  })
  return { node, address: node.getMultiaddrs()[0].toString(), peerId: node.peerId.toString() }
}
