/**
 * The peer-discovery compliance cases of js-libp2p, mirrored case for case
 * (same names, same steps) from the upstream suite
 * `@libp2p/interface-compliance-tests/peer-discovery`, which runs under mocha
 * and so cannot run here as it is.
 *
 * The discovery runs against a real rendezvous point (the server handler over
 * in-memory streams) where another peer has registered, on the real clock.
 * Where upstream waits 2 s for an event that must not come, this waits
 * 200 ms, with polling every 20 ms and a peer registering during the wait,
 * so that any leftover poll would have had ten chances to emit.
 */
import { start, stop } from '@libp2p/interface'
import { isMultiaddr } from '@multiformats/multiaddr'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { inMemoryClient } from '../fixtures/in-memory.ts'
import { TestNetwork, createTestNode, createTestPoint } from './harness.ts'
import type { RendezvousDiscovery } from '../../src/index.ts'
import type { TestPoint } from './harness.ts'
import type { PeerInfo } from '@libp2p/interface'

const NAMESPACE = 'compliance'
const QUIET_WAIT = 200

async function delay (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

describe('interface-peer-discovery compliance tests', () => {
  let point: TestPoint
  let discovery: RendezvousDiscovery

  async function registerAnotherPeer (): Promise<void> {
    const peer = await inMemoryClient(point.server!)
    await peer.client.register(point.id, NAMESPACE, { ttl: 7200 })
  }

  beforeEach(async () => {
    point = await createTestPoint()
    await registerAnotherPeer()
    const node = await createTestNode(new TestNetwork().add(point), { namespaces: [NAMESPACE], discoverInterval: 20, fullDiscoverEvery: 1 })
    discovery = node.service
  })

  afterEach(async () => {
    await stop(discovery)
    await point.server?.server.stop()
  })

  it('can start the service', async () => {
    await start(discovery)
  })

  it('can start and stop the service', async () => {
    await start(discovery)
    await stop(discovery)
  })

  it('should not fail to stop the service if it was not started', async () => {
    await stop(discovery)
  })

  it('should not fail to start the service if it is already started', async () => {
    await start(discovery)
    await start(discovery)
  })

  it('should emit a peer event after start', async () => {
    const peer = new Promise<PeerInfo>(resolve => {
      discovery.addEventListener('peer', (evt) => { resolve(evt.detail) }, { once: true })
    })

    await start(discovery)

    const { id, multiaddrs } = await peer
    expect(id).toBeDefined()
    expect(['RSA', 'Ed25519', 'secp256k1']).toContain(id.type)
    expect(multiaddrs).toBeDefined()
    multiaddrs.forEach((m) => { expect(isMultiaddr(m)).toBe(true) })
  })

  it('should not receive a peer event before start', async () => {
    const received: PeerInfo[] = []
    discovery.addEventListener('peer', (evt) => { received.push(evt.detail) })

    await registerAnotherPeer()
    await delay(QUIET_WAIT)
    expect(received).toEqual([])
  })

  it('should not receive a peer event after stop', async () => {
    const started = new Promise<void>(resolve => {
      discovery.addEventListener('peer', () => { resolve() }, { once: true })
    })

    await start(discovery)

    await started

    await stop(discovery)

    const received: PeerInfo[] = []
    discovery.addEventListener('peer', (evt) => { received.push(evt.detail) })

    await registerAnotherPeer()
    await delay(QUIET_WAIT)
    expect(received).toEqual([])
  })
})
