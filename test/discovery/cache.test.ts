import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryCache } from '../../src/index.ts'
import { inMemoryClient } from '../fixtures/in-memory.ts'
import { ManualClock, ManualVisibility, TestNetwork, capturingLogger, createTestNode, createTestPoint, nextEvent, recordEvents, stopServices, trackService } from './harness.ts'
import type { RegistrationCache, RegistrationCacheFactory } from '../../src/index.ts'
import type { TestPoint } from './harness.ts'
import type { PeerId, PrivateKey } from '@libp2p/interface'

afterEach(stopServices)

async function registerPeer (point: TestPoint, namespace = 'app', ttl = 7200): Promise<PeerId> {
  const peer = await inMemoryClient(point.server!)
  await peer.client.register(point.id, namespace, { ttl })
  return peer.peerId
}

/**
 * A first page load finds a peer and caches it, then stops; `reload` makes the
 * next page load: a new service with the same key and the same cache.
 */
async function firstVisit (options: { ttl?: number } = {}): Promise<{ clock: ManualClock, point: TestPoint, network: TestNetwork, cache: RegistrationCacheFactory, privateKey: PrivateKey, peer: PeerId }> {
  const clock = new ManualClock()
  const point = await createTestPoint({ now: () => clock.now(), minTtl: 60 })
  const network = new TestNetwork().add(point)
  const cache = memoryCache()
  const peer = await registerPeer(point, 'app', options.ttl)
  const node = await createTestNode(network, { namespaces: ['app'], cache, clock, visibility: new ManualVisibility() })
  trackService(node.service)
  await node.service.start()
  node.service.afterStart?.()
  await nextEvent(node.service, 'peer')
  await node.service.stop()
  return { clock, point, network, cache, privateKey: node.privateKey, peer }
}

describe('registration cache', () => {
  it('on start, emits unexpired cached peers at once, before libp2p has started the rest and before any network round trip, then reconciles', async () => {
    const visit = await firstVisit()
    // the point is unreachable on the second visit: whatever is emitted came from the cache
    visit.point.mode = 'hang'
    const node = await createTestNode(visit.network, { namespaces: ['app'], cache: visit.cache, clock: visit.clock, timeout: 600_000, unregisterTimeout: 50, visibility: new ManualVisibility() }, { privateKey: visit.privateKey })
    trackService(node.service)
    const found = recordEvents(node.service, 'peer')
    const updates = recordEvents(node.service, 'peer:update')

    // start(), not afterStart(): a warm start shows its peers without waiting for the rest of libp2p
    await node.service.start()
    expect(found.map(p => p.id.toString())).toEqual([visit.peer.toString()])
    expect(updates.map(u => u.peer.source)).toEqual(['cache'])
    node.service.afterStart?.()
    expect(found).toHaveLength(1)

    // the point comes back: the same record, now confirmed by the network
    visit.point.mode = 'up'
    await node.service.findPeers('app', { forceRefresh: true })
    expect(updates.map(u => u.peer.source)).toEqual(['cache', 'network'])
    expect(found).toHaveLength(1)
  })

  it('shows the cache\'s first look within start() itself, before anything waits; the full read adds nothing twice', async () => {
    const visit = await firstVisit()
    visit.point.mode = 'hang'
    const node = await createTestNode(visit.network, { namespaces: ['app'], cache: visit.cache, clock: visit.clock, timeout: 600_000, unregisterTimeout: 50, visibility: new ManualVisibility() }, { privateKey: visit.privateKey })
    trackService(node.service)
    const order: string[] = []
    node.service.addEventListener('peer', () => { order.push('peer') })
    const starting = node.service.start()
    order.push('start() returned')
    await starting
    node.service.afterStart?.()
    expect(order).toEqual(['peer', 'start() returned'])
  })

  it('never emits expired cached peers, and prunes them', async () => {
    const visit = await firstVisit({ ttl: 120 })
    visit.clock.advance(121_000)
    const node = await createTestNode(visit.network, { namespaces: ['app'], cache: visit.cache, clock: visit.clock, visibility: new ManualVisibility() }, { privateKey: visit.privateKey })
    trackService(node.service)
    const found = recordEvents(node.service, 'peer')
    await node.service.start()
    node.service.afterStart?.()
    expect(found).toEqual([])
    expect(node.service.getPeers('app')).toEqual([])
    await node.service.stop()
    expect(await visit.cache(node.peerId).loadRegistrations('app')).toEqual([])
  })

  it('verifies cached records again on load: a tampered entry is dropped', async () => {
    const visit = await firstVisit()
    const store = visit.cache(peerIdFromPrivateKey(visit.privateKey))
    const [entry] = await store.loadRegistrations('app')
    const forged = entry.signedPeerRecord.slice()
    forged[forged.length - 1] ^= 0xff
    await store.saveRegistrations('app', [{ ...entry, signedPeerRecord: forged }])

    visit.point.mode = 'hang'
    const node = await createTestNode(visit.network, { namespaces: ['app'], cache: visit.cache, clock: visit.clock, timeout: 600_000, unregisterTimeout: 50, visibility: new ManualVisibility() }, { privateKey: visit.privateKey })
    trackService(node.service)
    const found = recordEvents(node.service, 'peer')
    await node.service.start()
    node.service.afterStart?.()
    expect(found).toEqual([])
  })

  it('keeps the caches of two nodes apart', async () => {
    const visit = await firstVisit()
    const other = await createTestNode(visit.network, { namespaces: ['app'], cache: visit.cache, clock: visit.clock, visibility: new ManualVisibility() })
    expect(await visit.cache(other.peerId).loadRegistrations('app')).toEqual([])
    expect(await visit.cache(peerIdFromPrivateKey(visit.privateKey)).loadRegistrations('app')).toHaveLength(1)
  })

  it('given a cache that fails, logs once and carries on in memory', async () => {
    const lines: string[] = []
    const failures: string[] = []
    const broken: RegistrationCache = {
      loadRegistrations: async () => { failures.push('load'); throw new Error('QuotaExceededError') },
      saveRegistrations: async () => { failures.push('save'); throw new Error('QuotaExceededError') },
      clearRegistrations: async () => { failures.push('clear'); throw new Error('QuotaExceededError') },
      loadSeq: async () => { failures.push('seq'); throw new Error('QuotaExceededError') },
      saveSeq: async () => { failures.push('seq'); throw new Error('QuotaExceededError') }
    }
    const point = await createTestPoint()
    const peer = await registerPeer(point)
    const node = await createTestNode(new TestNetwork().add(point), { namespaces: ['app'], cache: () => broken, visibility: new ManualVisibility() }, { logger: capturingLogger(lines) })
    trackService(node.service)
    await node.service.start()
    node.service.afterStart?.()
    const found = await nextEvent(node.service, 'peer')
    expect(found.id.equals(peer)).toBe(true)
    await node.service.register('other')
    await node.service.clearCache()

    // the cached peers are read first (they are what a warm start shows), and nothing touches the broken cache after that
    expect(failures).toEqual(['load'])
    expect(lines.filter(l => l.includes('ERROR') && l.includes('cache'))).toHaveLength(1)
  })

  it('given no cache, works all the same and remembers nothing', async () => {
    const point = await createTestPoint()
    const peer = await registerPeer(point)
    const network = new TestNetwork().add(point)
    const node = await createTestNode(network, { namespaces: ['app'], cache: false, visibility: new ManualVisibility() })
    trackService(node.service)
    await node.service.start()
    node.service.afterStart?.()
    expect((await nextEvent(node.service, 'peer')).id.equals(peer)).toBe(true)
    await node.service.stop()

    point.mode = 'hang'
    const again = await createTestNode(network, { namespaces: ['app'], cache: false, timeout: 600_000, unregisterTimeout: 50, visibility: new ManualVisibility() }, { privateKey: node.privateKey })
    trackService(again.service)
    const found = recordEvents(again.service, 'peer')
    await again.service.start()
    again.service.afterStart?.()
    expect(found).toEqual([])
  })

  it('memoryCache keeps plain copies: what a caller holds cannot change what is stored', async () => {
    const cache = memoryCache()(peerIdFromPrivateKey(await generateKeyPair('Ed25519')))
    const record = new Uint8Array([1, 2, 3])
    await cache.saveRegistrations('app', [{ peerId: 'p', signedPeerRecord: record, expiresAt: 1, points: [['q', 1]] }])
    record[0] = 9
    const [loaded] = await cache.loadRegistrations('app')
    expect(loaded.signedPeerRecord).toEqual(new Uint8Array([1, 2, 3]))
    await cache.saveSeq(42n)
    await cache.clearRegistrations()
    expect(await cache.loadRegistrations('app')).toEqual([])
    expect(await cache.loadSeq()).toBe(42n)
  })
})
