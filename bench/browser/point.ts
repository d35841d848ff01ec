/**
 * The point the browser dials: the point `createRendezvousPoint` makes (as
 * the command line runs it), in this process, over WebSockets on loopback,
 * holding real registrations of real peers.
 */
import { createRendezvousPoint, memoryStore } from '../../src/server/index.ts'
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
  const node = await createRendezvousPoint({ listen: ['/ip4/127.0.0.1/tcp/0/ws'], rendezvous: { store } })
  return { node, address: node.getMultiaddrs()[0].toString(), peerId: node.peerId.toString() }
}
