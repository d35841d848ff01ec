/**
 * The discovery service at points of the pre-2020 schema (a scripted point
 * that answers as py's does: see scripted-point.ts, and the real py-libp2p
 * in test/interop): their unsigned PeerInfos reach the app only when it
 * opted in with `uncertifiedPeers: peerInfoSchema()`, marked, in the view
 * and in the cache alike.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryCache, peerInfoSchema } from '../../src/index.ts'
import { encodePeerInfo, readRecordField } from '../../src/protocol/peer-info.ts'
import { signRecord } from '../fixtures/records.ts'
import { ManualVisibility, TestNetwork, capturingLogger, createScriptedTestPoint, createTestNode, createTestPoint, recordEvents, started, stopServices, trackService } from './harness.ts'
import { ScriptedPoint } from './scripted-point.ts'
import type { RegistrationCacheFactory, RendezvousDiscoveryInit } from '../../src/index.ts'
import type { ComponentLogger, PeerId, PrivateKey } from '@libp2p/interface'

afterEach(stopServices)

const OPT_IN = { uncertifiedPeers: peerInfoSchema() }

/** A peer registered at `script` as py clients register: an unsigned PeerInfo */
async function pyPeer (script: ScriptedPoint, namespace = 'app'): Promise<{ id: PeerId, key: PrivateKey }> {
  const key = await generateKeyPair('Ed25519')
  const id = peerIdFromPrivateKey(key)
  const peerInfo = encodePeerInfo({ id, multiaddrs: [multiaddr(`/ip4/127.0.0.1/tcp/4100/p2p/${id}`)] })
  script.entries.push({ namespace, peerId: id.toString(), signedPeerRecord: peerInfo, ttl: 7200 })
  return { id, key }
}

async function serviceAt (script: ScriptedPoint, init: Partial<RendezvousDiscoveryInit>, privateKey?: PrivateKey, logger?: ComponentLogger): Promise<Awaited<ReturnType<typeof createTestNode>>> {
  const point = await createScriptedTestPoint(script)
  return started(await createTestNode(new TestNetwork().add(point), { visibility: new ManualVisibility(), ...init }, { privateKey, logger }))
}

describe('the discovery service at points of the pre-2020 schema', () => {
  it('given uncertifiedPeers, then it registers there with a PeerInfo and finds py\'s peers, marked not certified in every event', async () => {
    const script = new ScriptedPoint({ peerInfo: true })
    const py = await pyPeer(script)
    const { service, peerId } = await serviceAt(script, OPT_IN)
    const updates = recordEvents(service, 'peer:update')

    expect(await service.register('app', { ttl: 7200 })).toBe(7200)
    const ours = script.entries.find(e => e.peerId === peerId.toString())
    expect(ours == null ? undefined : readRecordField(ours.signedPeerRecord).kind).toBe('peer-info')

    const peers = await service.findPeers('app')
    expect(peers.map(p => [p.id.toString(), p.certified, p.seq, p.multiaddrs.map(String)])).toEqual([[py.id.toString(), false, 0n, [`/ip4/127.0.0.1/tcp/4100/p2p/${py.id}`]]])
    expect(updates.map(u => [u.peer.id.toString(), u.peer.certified])).toEqual([[py.id.toString(), false]])
    expect(service.getPeers('app').map(p => p.certified)).toEqual([false])
  })

  it('given no uncertifiedPeers (the default), then no PeerInfo ever reaches the app, and the point\'s refusal of our record shows in the registration state', async () => {
    const script = new ScriptedPoint({ peerInfo: true })
    await pyPeer(script)
    const lines: string[] = []
    const { service } = await serviceAt(script, {}, undefined, capturingLogger(lines))
    const found = recordEvents(service, 'peer')
    const updates = recordEvents(service, 'peer:update')

    await expect(service.register('app', { ttl: 7200 })).rejects.toThrow()
    expect(service.getRegistrations().map(r => [r.status, r.errorName])).toEqual([['error', 'NotAuthorizedError']])
    // the log says what would register there
    expect(lines.some(l => l.includes('ERROR') && l.includes('uncertifiedPeers: peerInfoSchema()'))).toBe(true)
    expect(await service.findPeers('app', { forceRefresh: true })).toEqual([])
    expect(await service.discover('app')).toEqual([])
    expect([found, updates, service.getPeers('app')]).toEqual([[], [], []])
  })

  it('given a signed record of a peer known by its PeerInfo, then the signed one takes its place; the PeerInfo never takes it back', async () => {
    const script = new ScriptedPoint({ peerInfo: true })
    const py = await pyPeer(script)
    const { service } = await serviceAt(script, OPT_IN)
    expect((await service.findPeers('app')).map(p => p.certified)).toEqual([false])

    // the same peer, now also at the point with a record it signed (as at a point of ours)
    script.entries.push({ namespace: 'app', peerId: py.id.toString(), signedPeerRecord: await signRecord(py.key, { multiaddrs: ['/ip4/192.0.2.9/tcp/9'] }), ttl: 7200 })
    const updates = recordEvents(service, 'peer:update')
    await service.findPeers('app', { forceRefresh: true })
    expect(service.getPeers('app').map(p => [p.certified, p.multiaddrs.map(String)])).toEqual([[true, ['/ip4/192.0.2.9/tcp/9']]])

    // the record leaves, the PeerInfo stays: the signed record is not replaced by it
    script.entries.pop()
    await service.findPeers('app', { forceRefresh: true })
    expect(service.getPeers('app').map(p => p.certified)).toEqual([true])
    expect(updates.filter(u => !u.peer.certified)).toEqual([])
  })

  describe('the cache', () => {
    /** A first visit with uncertifiedPeers finds py's peer and caches it, then stops */
    async function firstVisit (): Promise<{ script: ScriptedPoint, cache: RegistrationCacheFactory, privateKey: PrivateKey, py: PeerId }> {
      const script = new ScriptedPoint({ peerInfo: true })
      const { id: py } = await pyPeer(script)
      const cache = memoryCache()
      const { service, privateKey } = await serviceAt(script, { ...OPT_IN, namespaces: ['app'], cache })
      expect((await service.findPeers('app')).map(p => p.certified)).toEqual([false])
      await service.stop()
      return { script, cache, privateKey, py }
    }

    /** The next page load: the same key and cache; the point out of reach unless `reachable` */
    async function reload (visit: Awaited<ReturnType<typeof firstVisit>>, init: Partial<RendezvousDiscoveryInit>, reachable = false): Promise<{ updates: Array<{ peer: { certified: boolean, id: PeerId, source: string } }>, found: unknown[], service: Awaited<ReturnType<typeof serviceAt>>['service'] }> {
      const point = await createScriptedTestPoint(visit.script)
      if (!reachable) point.mode = 'hang'
      const node = await createTestNode(new TestNetwork().add(point), { namespaces: ['app'], cache: visit.cache, visibility: new ManualVisibility(), timeout: 600_000, unregisterTimeout: 50, ...init }, { privateKey: visit.privateKey })
      trackService(node.service)
      const updates = recordEvents(node.service, 'peer:update')
      const found = recordEvents(node.service, 'peer')
      await node.service.start()
      node.service.afterStart?.()
      return { updates, found, service: node.service }
    }

    it('given a cached PeerInfo and uncertifiedPeers, then it comes back from the cache still marked not certified', async () => {
      const visit = await firstVisit()
      // whatever is shown comes from the cache
      const { updates, service } = await reload(visit, OPT_IN)
      await expect.poll(() => updates.length).toBe(1)
      expect(updates.map(u => [u.peer.id.toString(), u.peer.certified, u.peer.source])).toEqual([[visit.py.toString(), false, 'cache']])
      expect(service.getPeers('app').map(p => p.certified)).toEqual([false])
    })

    it('given a cached PeerInfo and a later visit without uncertifiedPeers, then it is never shown', async () => {
      const visit = await firstVisit()
      // py's peer has left the point: a peer shown now could only come from the cache
      visit.script.entries.length = 0
      const { updates, found, service } = await reload(visit, {}, true)
      expect(await service.findPeers('app', { forceRefresh: true })).toEqual([])
      expect([updates, found, service.getPeers('app')]).toEqual([[], [], []])
    })
  })

  it('given a point of ours beside a py point and uncertifiedPeers, then our point keeps getting signed records and its peers stay certified', async () => {
    const script = new ScriptedPoint({ peerInfo: true })
    const py = await pyPeer(script)
    const scripted = await createScriptedTestPoint(script)
    const ours = await createTestPoint()
    const { service } = await started(await createTestNode(new TestNetwork().add(scripted, ours), { visibility: new ManualVisibility(), ...OPT_IN }))
    await service.register('app', { ttl: 7200 })
    expect(service.getRegistrations().map(r => r.status)).toEqual(['registered', 'registered'])
    expect(ours.calls.register).toBe(1)
    const peers = await service.findPeers('app')
    expect(peers.map(p => [p.id.toString(), p.certified])).toEqual([[py.id.toString(), false]])
  })
})
