/**
 * Points that answer the way other implementations do (see scripted-point.ts),
 * next to real points of ours where ours can play the part (a 2 h minimum TTL).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { RendezvousClientService } from '../../src/client/rendezvous-client.ts'
import { createScriptedTestPoint, createTestNode, createTestPoint, ManualClock, ManualVisibility, nextEvent, settle, started, stopServices, TestNetwork } from './harness.ts'
import { ScriptedPoint } from './scripted-point.ts'
import type { DiscoveredPeer, RegistrationState, RendezvousDiscovery } from '../../src/index.ts'
import type { TestPoint } from './harness.ts'
import type { PeerId } from '@libp2p/interface'
import type { AddressManager, ConnectionManager } from '@libp2p/interface-internal'

afterEach(stopServices)

/** Register a fresh peer at a scripted point through the real client */
async function registerAt (script: ScriptedPoint, namespace = 'app'): Promise<PeerId> {
  const privateKey = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(privateKey)
  const client = new RendezvousClientService({
    peerId,
    privateKey,
    addressManager: { getAddresses: () => [multiaddr('/ip4/192.0.2.1/tcp/1')] } as unknown as AddressManager,
    connectionManager: {
      openStream: async () => {
        const [outbound, inbound] = await streamPair()
        script.handle(inbound, peerId)
        return outbound
      }
    } as unknown as ConnectionManager,
    logger: defaultLogger()
  })
  await client.register(peerId, namespace, { ttl: 7200 })
  return peerId
}

function ids (peers: DiscoveredPeer[]): string[] {
  return peers.map(p => p.id.toString()).sort()
}

async function registered (service: RendezvousDiscovery, point: TestPoint): Promise<RegistrationState> {
  const state = service.getRegistrations().find(s => s.point.equals(point.id) && s.status === 'registered')
  return state ?? nextEvent(service, 'registration:update', s => s.status === 'registered' && s.point.equals(point.id)) as Promise<RegistrationState>
}

describe('interop with points that behave like other implementations', () => {
  it('given a point that leaves out type, status and namespace (proto3 encoders), registers and discovers', async () => {
    const script = new ScriptedPoint({ omitDefaults: true })
    const others = [await registerAt(script), await registerAt(script)]
    const point = await createScriptedTestPoint(script)
    const { service } = await started(await createTestNode(new TestNetwork().add(point), { visibility: new ManualVisibility() }))
    expect(await service.register('app', { ttl: 3600 })).toBe(3600)
    const peers = await service.findPeers('app')
    expect(ids(peers)).toEqual(others.map(String).sort())
  })

  it('given a point that sends no cookie, walks are complete and every poll can notice who left', async () => {
    const clock = new ManualClock()
    const script = new ScriptedPoint({ noCookie: true })
    const [stays, leaves] = [await registerAt(script), await registerAt(script)]
    const point = await createScriptedTestPoint(script)
    const { service } = await started(await createTestNode(new TestNetwork().add(point), { namespaces: ['app'], clock, visibility: new ManualVisibility() }))
    while (service.getPeers('app').length < 2) await nextEvent(service, 'peer:update')

    script.entries.splice(script.entries.findIndex(e => e.peerId === leaves.toString()), 1)
    await settle()
    // the second poll would go with a cookie; there is none, so it is a complete walk
    clock.advance(60_000)
    const gone = await nextEvent(service, 'peer:remove')
    expect(gone.peer.id.equals(leaves)).toBe(true)
    expect(ids(service.getPeers('app'))).toEqual([stays.toString()])
  })

  it('given a point that caps the TTL, refreshes on the TTL it granted', async () => {
    const script = new ScriptedPoint({ capTtl: 60 })
    const point = await createScriptedTestPoint(script)
    const clock = new ManualClock()
    const { service } = await started(await createTestNode(new TestNetwork().add(point), { namespaces: ['app'], ttl: 7200, clock, visibility: new ManualVisibility() }))
    const state = await registered(service, point)
    expect(state.ttl).toBe(60)
    expect(state.refreshAt! - state.updatedAt).toBeLessThanOrEqual(48_000)
    expect(state.refreshAt! - state.updatedAt).toBeGreaterThanOrEqual(43_200)
  })

  it('given a point that caps the page size, still walks the whole namespace', async () => {
    const script = new ScriptedPoint({ capLimit: 2 })
    const others = []
    for (let i = 0; i < 5; i++) others.push(await registerAt(script))
    const point = await createScriptedTestPoint(script)
    const { service } = await started(await createTestNode(new TestNetwork().add(point), { limit: 100, visibility: new ManualVisibility() }))
    const all: DiscoveredPeer[] = []
    for await (const peer of service.discoverAll('app')) all.push(peer)
    expect(ids(all)).toEqual(others.map(String).sort())
    expect(script.requests.filter(r => r === 'DISCOVER').length).toBeGreaterThanOrEqual(3)
  })

  it('given a point with a 2 h minimum TTL (rust, nim), asks again for 7200 s', async () => {
    const point = await createTestPoint({ minTtl: 7200 })
    const { service } = await started(await createTestNode(new TestNetwork().add(point), { namespaces: ['app'], ttl: 600, visibility: new ManualVisibility() }))
    const state = await registered(service, point)
    expect(state.ttl).toBe(7200)
  })

  it('given a point that answers E_INVALID_NAMESPACE for a namespace nobody registered in (nim), sees no peers, and no error', async () => {
    const clock = new ManualClock()
    const script = new ScriptedPoint({ unknownNamespaceError: true })
    const point = await createScriptedTestPoint(script)
    // without an address we do not register, so the namespace stays empty until someone else does
    const { service } = await started(await createTestNode(new TestNetwork().add(point), { namespaces: ['empty'], clock, visibility: new ManualVisibility() }, { addresses: [] }))
    expect(await service.discover('empty')).toEqual([])
    expect(await service.findPeers('empty', { forceRefresh: true })).toEqual([])
    clock.advance(60_000)
    await settle()
    expect(script.requests.filter(r => r === 'DISCOVER').length).toBeGreaterThanOrEqual(4)
    expect(service.getPoints().map(s => s.status)).toEqual(['ok'])

    const other = await registerAt(script, 'empty')
    clock.advance(60_000)
    expect((await nextEvent(service, 'peer')).id.equals(other)).toBe(true)
  })

  it('given a point that closes the stream instead of answering, reports it and retries, while other points serve', async () => {
    const silent = await createScriptedTestPoint(new ScriptedPoint({ silentOnRegister: true }))
    const ours = await createTestPoint()
    const { service } = await started(await createTestNode(new TestNetwork().add(silent, ours), { namespaces: ['app'], visibility: new ManualVisibility() }))
    const failed = await nextEvent(service, 'registration:update', s => s.status === 'error' && s.point.equals(silent.id))
    expect(failed.errorName).toBe('NoResponseError')
    expect(failed.retryAt).toBeGreaterThan(failed.updatedAt)
    await registered(service, ours)
  })
})
