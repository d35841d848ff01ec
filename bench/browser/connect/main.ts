/**
 * The connection-time page: a browser node as the demo builds it (WebSockets
 * to the point, the relay transport, WebRTC) with the SDK. One page
 * registers; another discovers it and, from the SDK's `peer` event, dials it
 * through the relay or directly over WebRTC (the /webrtc address the SDK
 * registered, signalled through the relay), as the demo's "Connect" does.
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { webRTC } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { CODE_P2P_CIRCUIT, multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { rendezvousDiscovery } from '../../../src/index.ts'
import type { ConnectBenchApi, ConnectResult, PairInit } from './protocol.ts'
import type { RendezvousDiscovery } from '../../../src/index.ts'
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

async function createNode (init: PairInit, namespaces: string[]): Promise<Libp2p<{ rendezvous: RendezvousDiscovery }>> {
  return createLibp2p({
    addresses: { listen: ['/p2p-circuit'] },
    transports: [webSockets(), webRTC(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // browsers refuse ws:// and loopback addresses by default; the bench point is both
    connectionGater: { denyDialMultiaddr: () => false },
    services: {
      identify: identify(),
      rendezvous: rendezvousDiscovery({ points: [init.point], namespaces, cache: false })
    }
  })
}

async function listen (init: PairInit): Promise<string> {
  const node = await createNode(init, [init.namespace])
  await new Promise<void>(resolve => {
    node.services.rendezvous.addEventListener('registration:update', (evt) => {
      if (evt.detail.status === 'registered') resolve()
    })
  })
  return node.peerId.toString()
}

/** Ends in the relay's /p2p-circuit: reached through the relay only */
function isRelayedOnly (ma: Multiaddr): boolean {
  return ma.getComponents().at(-1)?.code === CODE_P2P_CIRCUIT
}

async function connect (init: PairInit & { target: string, kind: 'relayed' | 'direct' }): Promise<ConnectResult> {
  const node = await createNode(init, [])
  const found = new Promise<{ t0: number, addresses: Multiaddr[] }>(resolve => {
    node.services.rendezvous.addEventListener('peer', (evt) => {
      if (evt.detail.id.toString() === init.target) resolve({ t0: performance.now(), addresses: evt.detail.multiaddrs })
    })
  })
  void node.services.rendezvous.discover(init.namespace)
  const { t0, addresses } = await found
  // every address, as the demo dials them: libp2p tries the /webrtc one before the relayed one
  const targets = addresses
    .filter(ma => init.kind === 'direct' || isRelayedOnly(ma))
    .map(ma => ma.encapsulate(multiaddr(`/p2p/${init.target}`)))
  const connection = await node.dial(targets)
  return { ms: performance.now() - t0, direct: connection.direct }
}

const api: ConnectBenchApi = { listen, connect }
;(globalThis as { connectBench?: ConnectBenchApi }).connectBench = api
