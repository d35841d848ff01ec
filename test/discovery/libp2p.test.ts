/**
 * The service inside real libp2p nodes, over TCP on loopback, against a real
 * rendezvous point node: under `services` and in `peerDiscovery`, libp2p
 * raising `peer:discovery`, unregistering on stop, and points over transports
 * this machine cannot run (WebTransport).
 */
import { transportSymbol } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { toString } from 'uint8arrays/to-string'
import { afterEach, describe, expect, it } from 'vitest'
import { rendezvousDiscovery } from '../../src/index.ts'
import { createPoint, stopNodes } from '../fixtures/nodes.ts'
import { nextEvent, until } from './harness.ts'
import type { RendezvousDiscovery, RendezvousDiscoveryInit } from '../../src/index.ts'
import type { Libp2p, PeerInfo, Transport } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

const nodes: Libp2p[] = []

afterEach(async () => {
  await Promise.all(nodes.splice(0).map(async node => node.stop()))
  await stopNodes()
})

async function createNode (init: RendezvousDiscoveryInit, transports: Array<() => Transport> = []): Promise<Libp2p<{ rendezvous: RendezvousDiscovery }>> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp(), ...transports],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { rendezvous: rendezvousDiscovery({ cache: false, ...init }) }
  })
  nodes.push(node)
  return node
}

async function discovered (node: Libp2p, peer: Libp2p): Promise<PeerInfo> {
  return new Promise(resolve => {
    node.addEventListener('peer:discovery', (evt) => {
      if (evt.detail.id.equals(peer.peerId)) resolve(evt.detail)
    })
  })
}

async function registered (service: RendezvousDiscovery): Promise<void> {
  if (service.getRegistrations().some(s => s.status === 'registered')) return
  await nextEvent(service, 'registration:update', s => s.status === 'registered')
}

/** A certhash as WebTransport points announce them: a multibase (base64url) sha2-256 multihash */
function certhash (fill: number): string {
  return 'u' + toString(Uint8Array.from([0x12, 0x20, ...new Array(32).fill(fill)]), 'base64url')
}

describe('in a libp2p node', () => {
  it('under services: registers, discovers, and libp2p raises peer:discovery with the record\'s addresses', async () => {
    const { address } = await createPoint()
    const alice = await createNode({ points: [address], namespaces: ['app'] })
    await registered(alice.services.rendezvous)
    const bob = await createNode({ points: [address.toString()], namespaces: ['app'] })

    const found = discovered(bob, alice)
    const peers = await bob.services.rendezvous.discover('app')
    expect(peers.map(p => p.id.toString())).toContain(alice.peerId.toString())
    const info = await found
    expect(info.multiaddrs.map(String).sort()).toEqual(alice.getMultiaddrs().map(ma => ma.decapsulateCode(421).toString()).sort())
  })

  it('in peerDiscovery: polls on its own and libp2p raises peer:discovery', async () => {
    const { address } = await createPoint()
    const alice = await createNode({ points: [address], namespaces: ['app'] })
    await registered(alice.services.rendezvous)
    const bob = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      peerDiscovery: [rendezvousDiscovery({ points: [address], namespaces: ['app'], cache: false })]
    })
    nodes.push(bob)
    const info = await discovered(bob, alice)
    expect(info.id.equals(alice.peerId)).toBe(true)
  })

  it('on stop, unregisters from every point', async () => {
    const point = await createPoint()
    const alice = await createNode({ points: [point.address], namespaces: ['app', 'chat'] })
    while (alice.services.rendezvous.getRegistrations().filter(s => s.status === 'registered').length < 2) {
      await nextEvent(alice.services.rendezvous, 'registration:update')
    }
    expect(Object.fromEntries(await point.server.getNamespaceStats())).toEqual({ app: 1, chat: 1 })
    await alice.stop()
    // UNREGISTER has no answer: the point drops the registrations when the messages arrive
    await until(async () => (await point.server.getNamespaceStats()).size === 0)
  })

  describe('WebTransport points', () => {
    // no WebTransport listener can run here (js-libp2p has none, and Node has no HTTP/3),
    // so what is tested is that such a point is accepted and handed to the transport for it
    const pointId = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'
    const address = multiaddr(`/ip4/127.0.0.1/udp/4433/quic-v1/webtransport/certhash/${certhash(1)}/certhash/${certhash(2)}/p2p/${pointId}`)

    it('hands the point to a WebTransport transport, and reports its failure', async () => {
      const dials: Multiaddr[] = []
      // stands in for @libp2p/webtransport, which this package does not depend on: it takes
      // /webtransport addresses and fails the way a browser without a reachable point does
      const webTransport = (): Transport => ({
        [Symbol.toStringTag]: '@libp2p/webtransport',
        [transportSymbol]: true,
        dial: async (ma) => {
          dials.push(ma)
          throw Object.assign(new Error('WebTransport session could not be established'), { name: 'WebTransportError' })
        },
        createListener: () => { throw new Error('WebTransport cannot listen here') },
        listenFilter: () => [],
        dialFilter: (mas) => mas.filter(ma => ma.getComponents().some(c => c.name === 'webtransport'))
      })
      const node = await createNode({ points: [address], namespaces: ['app'] }, [webTransport])
      const failed = await nextEvent(node.services.rendezvous, 'registration:update', s => s.status === 'error')
      expect(failed.point.toString()).toBe(pointId)
      expect(failed.error).toContain('WebTransport session could not be established')
      expect(dials.map(ma => ma.decapsulateCode(421).toString())).toContain(address.decapsulateCode(421).toString())
    })

    it('without a WebTransport transport, fails with a clear error and keeps working with its other points', async () => {
      const { address: tcpPoint } = await createPoint()
      const node = await createNode({ points: [address, tcpPoint], namespaces: ['app'] })
      const failed = await nextEvent(node.services.rendezvous, 'registration:update', s => s.status === 'error')
      expect(failed.errorName).toBe('NoValidAddressesError')
      await registered(node.services.rendezvous)
    })
  })
})
