import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { LEAVE_GRACE } from '../../src/discovery/constants.ts'
import { memoryStore } from '../../src/server/store/memory-store.ts'
import { inMemoryClient } from '../fixtures/in-memory.ts'
import { createTestNode, createTestPoint, ManualClock, ManualVisibility, nextEvent, recordEvents, settle, started, stopServices, TestNetwork } from './harness.ts'
import type { DiscoveredPeer, RendezvousDiscovery } from '../../src/index.ts'
import type { RegistrationStore, StoredRegistration } from '../../src/server/store/registration-store.ts'
import type { TestPoint } from './harness.ts'
import type { PeerId, PrivateKey } from '@libp2p/interface'

afterEach(stopServices)

/** A peer registered at `points` in `namespace` through the real client */
async function registerPeer (points: TestPoint[], namespace = 'app', options: { ttl?: number, privateKey?: PrivateKey, seq?: number, addresses?: string[] } = {}): Promise<PeerId> {
  const privateKey = options.privateKey ?? await generateKeyPair('Ed25519')
  for (const point of points) {
    const peer = await inMemoryClient(point.server!, options.seq != null ? { now: () => options.seq! } : {}, privateKey)
    if (options.addresses != null) peer.setAddresses(options.addresses)
    await peer.client.register(point.id, namespace, { ttl: options.ttl ?? 7200 })
  }
  return peerIdFromPrivateKey(privateKey)
}

async function unregisterPeer (point: TestPoint, privateKey: PrivateKey, namespace = 'app'): Promise<void> {
  const peer = await inMemoryClient(point.server!, {}, privateKey)
  await peer.client.unregister(point.id, namespace)
}

/** Resolves once the view of `namespace` satisfies `condition` */
async function viewWhere (service: RendezvousDiscovery, namespace: string, condition: (peers: DiscoveredPeer[]) => boolean): Promise<DiscoveredPeer[]> {
  while (!condition(service.getPeers(namespace))) {
    await nextEvent(service, 'peer:update', update => update.namespace === namespace)
  }
  return service.getPeers(namespace)
}

function ids (peers: Array<{ id: PeerId }>): string[] {
  return peers.map(p => p.id.toString()).sort()
}

describe('discovery', () => {
  it('merges peers from several points and pages into one view, keeping the highest sequence number', async () => {
    const clock = new ManualClock()
    const a = await createTestPoint({ now: () => clock.now() })
    const b = await createTestPoint({ now: () => clock.now() })
    const xKey = await generateKeyPair('Ed25519')
    // x registered at a with an old record and at b with a newer one, at other addresses
    const x = await registerPeer([a], 'app', { privateKey: xKey, seq: 1000, addresses: ['/ip4/192.0.2.1/tcp/1'] })
    await registerPeer([b], 'app', { privateKey: xKey, seq: 2000, addresses: ['/ip4/192.0.2.2/tcp/2'] })
    const y = await registerPeer([a, b], 'app', { seq: 5000 })
    const z = await registerPeer([a])

    const node = await createTestNode(new TestNetwork().add(a, b), { namespaces: ['app'], limit: 1, clock, visibility: new ManualVisibility() })
    const updates = recordEvents(node.service, 'peer:update')
    const found = recordEvents(node.service, 'peer')
    await started(node)

    const peers = await viewWhere(node.service, 'app', peers => peers.length === 3 && peers.every(p => p.source === 'network') && peers.find(p => p.id.equals(x))?.seq === 2000n)
    expect(ids(peers)).toEqual(ids([{ id: x }, { id: y }, { id: z }]))
    const pointsOf = (id: PeerId): string[] => peers.find(p => p.id.equals(id))!.points.sort()
    expect(pointsOf(x)).toEqual([a.id.toString(), b.id.toString()].sort())
    expect(pointsOf(y)).toEqual([a.id.toString(), b.id.toString()].sort())
    expect(pointsOf(z)).toEqual([a.id.toString()])
    expect(peers.find(p => p.id.equals(x))!.multiaddrs.map(String)).toEqual(['/ip4/192.0.2.2/tcp/2'])

    // x is told at most twice (old record, then the newer), never going back
    const xSeqs = updates.filter(u => u.peer.id.equals(x)).map(u => u.peer.seq)
    expect(xSeqs).toEqual([...xSeqs].sort((l, r) => Number(l - r)))
    expect(found.filter(p => p.id.equals(x)).length).toBeLessThanOrEqual(2)
    expect(found.filter(p => p.id.equals(y))).toHaveLength(1)
    // one registration per page: a page each for the three at a
    expect(a.calls.discover).toBeGreaterThanOrEqual(3)
  })

  it('never emits forged or tampered records, and skips our own', async () => {
    const aliceKey = await generateKeyPair('Ed25519')
    const eveKey = await generateKeyPair('Ed25519')
    const alice = peerIdFromPrivateKey(aliceKey)
    // eve signs a record that says it is alice
    const forged = (await RecordEnvelope.seal(new PeerRecord({ peerId: alice, multiaddrs: [multiaddr('/ip4/203.0.113.66/tcp/1')], seqNumber: 9n }), eveKey)).marshal()
    // alice's own record with other addresses put in after signing
    const genuine = await RecordEnvelope.seal(new PeerRecord({ peerId: alice, multiaddrs: [multiaddr('/ip4/192.0.2.10/tcp/1')], seqNumber: 9n }), aliceKey)
    const tampered = new RecordEnvelope({
      publicKey: genuine.publicKey,
      payloadType: genuine.payloadType,
      payload: new PeerRecord({ peerId: alice, multiaddrs: [multiaddr('/ip4/203.0.113.66/tcp/1')], seqNumber: 9n }).marshal(),
      signature: genuine.signature
    }).marshal()
    const garbage = new Uint8Array([1, 2, 3, 4])

    // a malicious point: a real point whose store slips extra entries into every page
    const inner = memoryStore()
    const store: RegistrationStore = {
      ...inner,
      register: inner.register.bind(inner),
      unregister: inner.unregister.bind(inner),
      namespaceStats: inner.namespaceStats.bind(inner),
      prune: inner.prune.bind(inner),
      async discover (namespace, after, limit, now) {
        const page = await inner.discover(namespace, after, limit, now)
        const extra: StoredRegistration[] = [forged, tampered, garbage].map(bytes => ({
          peerId: alice.toString(), namespace: namespace ?? 'app', signedPeerRecord: bytes, seq: 9n, expiresAt: now + 3_600_000, cursor: page.cursor
        }))
        return { ...page, registrations: [...extra, ...page.registrations] }
      }
    }
    const point = await createTestPoint({}, store)
    const bob = await registerPeer([point])

    const node = await createTestNode(new TestNetwork().add(point), { namespaces: ['app'], visibility: new ManualVisibility() })
    const found = recordEvents(node.service, 'peer')
    const updates = recordEvents(node.service, 'peer:update')
    await started(node)
    // we registered too, so our own record comes back from the point
    await viewWhere(node.service, 'app', peers => peers.length > 0)
    await node.service.discover('app')
    await node.service.findPeers('app', { forceRefresh: true })

    expect(point.calls.register).toBe(1 + 1)
    expect(ids(found)).toEqual(ids([{ id: bob }, { id: bob }]))
    expect(ids(updates.map(u => u.peer))).toEqual([bob.toString()])
    expect(ids(node.service.getPeers('app'))).toEqual([bob.toString()])
  })

  it('in a namespace larger than a page, a cookie-less walk every few polls notices peers that unregistered; cookie polls cannot', async () => {
    const clock = new ManualClock()
    const point = await createTestPoint({ now: () => clock.now() })
    const yKey = await generateKeyPair('Ed25519')
    const y = await registerPeer([point], 'app', { privateKey: yKey })
    const z = await registerPeer([point], 'app')
    // one registration per page: the namespace takes several
    const { service } = await started(await createTestNode(new TestNetwork().add(point), { namespaces: ['app'], limit: 1, fullDiscoverEvery: 2, clock, visibility: new ManualVisibility() }))
    await viewWhere(service, 'app', peers => peers.length === 2)
    await settle()
    await unregisterPeer(point, yKey)
    const removed = recordEvents(service, 'peer:remove')

    // poll 2 goes with the cookie: the point reports nothing new, and nothing about y
    const before = point.calls.discover
    clock.advance(60_000)
    await settle()
    expect(point.calls.discover).toBeGreaterThan(before)
    expect(removed).toEqual([])
    expect(ids(service.getPeers('app'))).toEqual(ids([{ id: y }, { id: z }]))

    // poll 3 walks without a cookie, and y is not there any more
    clock.advance(60_000)
    const gone = await nextEvent(service, 'peer:remove')
    expect(gone).toMatchObject({ namespace: 'app', reason: 'unregistered' })
    expect(gone.peer.id.equals(y)).toBe(true)
    expect(ids(service.getPeers('app'))).toEqual([z.toString()])
  })

  it('in a namespace that fits in a page, every poll goes without a cookie and notices a departure at the next poll', async () => {
    const clock = new ManualClock()
    const point = await createTestPoint({ now: () => clock.now() })
    const yKey = await generateKeyPair('Ed25519')
    const y = await registerPeer([point], 'app', { privateKey: yKey })
    const z = await registerPeer([point], 'app')
    const { service } = await started(await createTestNode(new TestNetwork().add(point), { namespaces: ['app'], fullDiscoverEvery: 1000, clock, visibility: new ManualVisibility() }))
    await viewWhere(service, 'app', peers => peers.length === 2)
    await settle()
    await unregisterPeer(point, yKey)

    // the first poll after the departure, not the 1000th
    clock.advance(60_000)
    const gone = await nextEvent(service, 'peer:remove')
    expect(gone).toMatchObject({ namespace: 'app', reason: 'unregistered' })
    expect(gone.peer.id.equals(y)).toBe(true)
    expect(ids(service.getPeers('app'))).toEqual([z.toString()])
  })

  it('registrations that lapse leave the view and are not emitted again', async () => {
    const clock = new ManualClock()
    const point = await createTestPoint({ now: () => clock.now(), minTtl: 60 })
    const y = await registerPeer([point], 'app', { ttl: 120 })
    const { service } = await started(await createTestNode(new TestNetwork().add(point), { namespaces: ['app'], discoverInterval: 30_000, clock, visibility: new ManualVisibility() }))
    const [peer] = await viewWhere(service, 'app', peers => peers.length === 1)
    expect(peer.expiresAt).toBe(clock.now() + 120_000)
    await settle()

    const found = recordEvents(service, 'peer')
    const removed = recordEvents(service, 'peer:remove')
    clock.advance(119_999)
    expect(removed).toEqual([])
    clock.advance(1)
    expect(removed.map(r => [r.peer.id.toString(), r.reason])).toEqual([[y.toString(), 'expired']])
    expect(service.getPeers('app')).toEqual([])
    // polls go on, and the point has dropped it too
    clock.advance(120_000)
    await settle()
    expect(found).toEqual([])
  })

  it('while hidden, polling stops but refreshes keep their deadline; on visible, overdue polls run at once', async () => {
    const clock = new ManualClock()
    const visibility = new ManualVisibility()
    const point = await createTestPoint({ now: () => clock.now() })
    const { service } = await started(await createTestNode(new TestNetwork().add(point), { namespaces: ['app'], ttl: 200, clock, visibility }))
    await nextEvent(service, 'registration:update', s => s.status === 'registered')
    await settle()
    const polled = point.calls.discover
    expect(polled).toBeGreaterThan(0)

    visibility.fire('hidden')
    const y = await registerPeer([point])
    const found = recordEvents(service, 'peer')
    const registrations = point.calls.register
    for (let i = 0; i < 5; i++) {
      clock.advance(60_000)
      await settle()
    }
    // 300 s hidden: no poll, but the 200 s registration was refreshed (at 144-160 s)
    expect(point.calls.discover).toBe(polled)
    expect(point.calls.register).toBeGreaterThan(registrations)
    expect(found).toEqual([])

    visibility.fire('visible')
    const peer = await nextEvent(service, 'peer')
    expect(peer.id.equals(y)).toBe(true)
  })

  it('after a freeze (timers stood still, the clock did not), resume runs overdue work at once', async () => {
    const clock = new ManualClock()
    const visibility = new ManualVisibility()
    const point = await createTestPoint({ now: () => clock.now() })
    const { service } = await started(await createTestNode(new TestNetwork().add(point), { namespaces: ['app'], ttl: 200, clock, visibility }))
    await nextEvent(service, 'registration:update', s => s.status === 'registered')
    await settle()

    const y = await registerPeer([point])
    const states = recordEvents(service, 'registration:update')
    clock.jump(190_000)
    expect(states).toEqual([])
    const peer = nextEvent(service, 'peer')
    visibility.fire('resume')
    expect(states.map(s => s.status)).toEqual(['registering'])
    expect((await peer).id.equals(y)).toBe(true)
  })

  it('given a point that never answers, finds the peers at the others', async () => {
    const healthy = await createTestPoint()
    const hanging = await createTestPoint()
    hanging.mode = 'hang'
    const y = await registerPeer([healthy])
    const { service } = await started(await createTestNode(new TestNetwork().add(hanging, healthy), { namespaces: ['app'], timeout: 600_000, unregisterTimeout: 50, visibility: new ManualVisibility() }))
    const peer = await nextEvent(service, 'peer')
    expect(peer.id.equals(y)).toBe(true)
  })

  it('after a failed dial or DISCOVER, tries again after the retry backoff, not after a whole poll interval', async () => {
    const clock = new ManualClock()
    const point = await createTestPoint({ now: () => clock.now() })
    const y = await registerPeer([point])
    // down for a moment at start
    point.mode = 'refuse'
    const node = await createTestNode(new TestNetwork().add(point), { namespaces: ['app'], retryDelay: 1000, discoverInterval: 600_000, clock, visibility: new ManualVisibility() })
    const found = recordEvents(node.service, 'peer')
    const start = clock.now()
    await started(node)
    const failed = await nextEvent(node.service, 'point:update', s => s.status === 'error')
    // the first retry takes up to half of retryDelay off, at random, and never waits longer
    expect(failed.retryAt).toBeGreaterThanOrEqual(start + 500)
    expect(failed.retryAt).toBeLessThanOrEqual(start + 1000)
    await settle()
    expect(point.calls.discover).toBe(0)

    point.mode = 'up'
    clock.advance(1000)
    const peer = await nextEvent(node.service, 'peer')
    expect(peer.id.equals(y)).toBe(true)
    expect(point.calls.discover).toBeGreaterThan(0)
    expect(found).toHaveLength(1)
  })

  it('after stop nothing fires: no timer, no listener, no event, no request', async () => {
    const clock = new ManualClock()
    const visibility = new ManualVisibility()
    const point = await createTestPoint({ now: () => clock.now() })
    const hanging = await createTestPoint({ now: () => clock.now() })
    hanging.mode = 'hang'
    const node = await started(await createTestNode(new TestNetwork().add(point, hanging), { namespaces: ['app'], ttl: 200, timeout: 600_000, unregisterTimeout: 50, clock, visibility }))
    await nextEvent(node.service, 'registration:update', s => s.status === 'registered')
    await registerPeer([point])
    const events: string[] = []
    for (const type of ['peer', 'peer:update', 'peer:remove', 'registration:update'] as const) {
      node.service.addEventListener(type, () => { events.push(type) })
    }

    await node.service.stop()
    expect(point.calls.unregister).toBe(1)
    const streams = point.streams + hanging.streams
    expect(clock.pending).toBe(0)
    expect(visibility.subscribers).toBe(0)
    expect(node.events.listenerCount('self:peer:update')).toBe(0)

    clock.advance(10 * 3_600_000)
    visibility.fire('hidden')
    visibility.fire('visible')
    visibility.fire('resume')
    visibility.fire('exit')
    node.setAddresses(['/ip4/198.51.100.7/tcp/1'])
    await settle()
    expect(events).toEqual([])
    expect(point.streams + hanging.streams).toBe(streams)
    expect(clock.pending).toBe(0)
    await expect(node.service.discover('app')).rejects.toHaveProperty('name', 'NotStartedError')
  })

  it('when the page goes away for good, unregisters everywhere and refreshes no more', async () => {
    const clock = new ManualClock()
    const visibility = new ManualVisibility()
    const points = [await createTestPoint({ now: () => clock.now() }), await createTestPoint({ now: () => clock.now() })]
    const { service } = await started(await createTestNode(new TestNetwork().add(...points), { namespaces: ['app', 'chat'], ttl: 200, clock, visibility }))
    await Promise.all(points.map(async p => p.calls.register === 2 || viewRegistered(service, p)))
    await settle()

    visibility.fire('exit')
    await settle()
    expect(points.map(p => p.calls.unregister)).toEqual([2, 2])
    const registered = points.map(p => p.calls.register)
    clock.advance(400_000)
    await settle()
    expect(points.map(p => p.calls.register)).toEqual(registered)
  })

  it('on beforeunload, unregisters everywhere at once and registers no more; pagehide after it sends nothing again', async () => {
    const clock = new ManualClock()
    const visibility = new ManualVisibility()
    const points = [await createTestPoint({ now: () => clock.now() }), await createTestPoint({ now: () => clock.now() })]
    const { service } = await started(await createTestNode(new TestNetwork().add(...points), { namespaces: ['app', 'chat'], ttl: 200, clock, visibility }))
    await Promise.all(points.map(async p => p.calls.register === 2 || viewRegistered(service, p)))
    await settle()

    const streams = points.map(p => p.streams)
    visibility.fire('leave')
    // every UNREGISTER is on its way before the event handler returns: the page may be gone soon after
    expect(points.map((p, i) => p.streams - streams[i])).toEqual([2, 2])
    await settle()
    expect(points.map(p => p.calls.unregister)).toEqual([2, 2])

    visibility.fire('exit')
    await settle()
    expect(points.map((p, i) => p.streams - streams[i])).toEqual([2, 2])
    const registered = points.map(p => p.calls.register)
    clock.advance(400_000)
    await settle()
    expect(points.map(p => p.calls.register)).toEqual(registered)
  })

  it('still here after beforeunload (the unload was cancelled), or back from the bfcache: registers again', async () => {
    const clock = new ManualClock()
    const visibility = new ManualVisibility()
    const point = await createTestPoint({ now: () => clock.now() })
    const observer = await inMemoryClient(point.server!)
    const held = async (): Promise<number> => (await observer.client.discover(point.id, 'app')).registrations.length
    const { service } = await started(await createTestNode(new TestNetwork().add(point), { namespaces: ['app'], clock, visibility }))
    await nextEvent(service, 'registration:update', s => s.status === 'registered')
    await settle()

    visibility.fire('leave')
    await settle()
    expect(await held()).toBe(0)
    clock.advance(LEAVE_GRACE - 1)
    await settle()
    expect(await held()).toBe(0)
    clock.advance(1)
    await nextEvent(service, 'registration:update', s => s.status === 'registered')
    expect(await held()).toBe(1)

    visibility.fire('leave')
    await settle()
    expect(await held()).toBe(0)
    // pageshow with persisted
    visibility.fire('resume')
    await nextEvent(service, 'registration:update', s => s.status === 'registered')
    expect(await held()).toBe(1)
    // and the grace timer of that leave is gone with it
    const registrations = point.calls.register
    clock.advance(LEAVE_GRACE)
    await settle()
    expect(point.calls.register).toBe(registrations)
  })

  it('discover, discoverAll, findPeers and clearCache', async () => {
    const clock = new ManualClock()
    const a = await createTestPoint({ now: () => clock.now() })
    const b = await createTestPoint({ now: () => clock.now() })
    const peers = [await registerPeer([a, b], 'chat', { seq: 7 }), await registerPeer([a], 'chat'), await registerPeer([b], 'chat')]
    const { service } = await started(await createTestNode(new TestNetwork().add(a, b), { clock, visibility: new ManualVisibility() }))

    // one page of one at each point, merged: both points hold the first peer first
    const found = recordEvents(service, 'peer')
    const round = await service.discover('chat', { limit: 1 })
    expect(ids(round)).toEqual([peers[0].toString()])
    expect(round[0].points.sort()).toEqual([a.id.toString(), b.id.toString()].sort())
    expect(ids(found)).toEqual(ids(round))
    // asked again, the known peer is announced again, once
    await service.discover('chat', { limit: 1 })
    expect(ids(found)).toEqual(ids([...round, ...round]))

    // every peer once, page by page
    const all: DiscoveredPeer[] = []
    for await (const peer of service.discoverAll('chat', { pageSize: 1 })) all.push(peer)
    expect(ids(all)).toEqual(ids(peers.map(id => ({ id }))))

    // fresh in the cache: no request
    const asked = a.calls.discover + b.calls.discover
    expect(ids(await service.findPeers('chat'))).toEqual(ids(all))
    expect(a.calls.discover + b.calls.discover).toBe(asked)
    expect(ids(await service.findPeers('chat', { forceRefresh: true }))).toEqual(ids(all))
    expect(a.calls.discover + b.calls.discover).toBeGreaterThan(asked)

    const removed = recordEvents(service, 'peer:remove')
    await service.clearCache('chat')
    expect(removed.map(r => r.reason)).toEqual(['cleared', 'cleared', 'cleared'])
    expect(service.getPeers('chat')).toEqual([])
    await expect(service.findPeers('chat', { signal: AbortSignal.abort() })).rejects.toHaveProperty('name', 'AbortError')
  })

  it('a consumer that stops iterating early stops the walks', async () => {
    const point = await createTestPoint()
    for (let i = 0; i < 5; i++) await registerPeer([point], 'many')
    const { service } = await started(await createTestNode(new TestNetwork().add(point), { visibility: new ManualVisibility() }))
    for await (const peer of service.discoverAll('many', { pageSize: 1 })) {
      expect(peer.namespace).toBe('many')
      break
    }
    await settle()
    expect(point.calls.discover).toBeLessThan(5)
  })
})

async function viewRegistered (service: RendezvousDiscovery, point: TestPoint): Promise<void> {
  while (service.getRegistrations().filter(s => s.point.equals(point.id) && s.status === 'registered').length < 2) {
    await nextEvent(service, 'registration:update')
  }
}
