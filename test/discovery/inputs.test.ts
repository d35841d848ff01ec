/**
 * Bad input gets a clear, named error and loses nothing: every bad option is
 * an `InvalidParametersError` at construction, and a call whose signal has
 * already fired rejects with `AbortError` before anything is sent.
 */
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { RendezvousClientService } from '../../src/client/rendezvous-client.ts'
import { memoryCache, rendezvousDiscovery } from '../../src/index.ts'
import { inMemoryClient } from '../fixtures/in-memory.ts'
import { newKey } from '../fixtures/records.ts'
import { createTestNode, createTestPoint, ManualVisibility, nextEvent, settle, started, stopServices, TestNetwork } from './harness.ts'
import type { RendezvousDiscoveryComponents, RendezvousDiscoveryInit } from '../../src/index.ts'
import type { AddressManager } from '@libp2p/interface-internal'

afterEach(stopServices)

describe('bad options', () => {
  const point = '/dns4/point.test/tcp/443/wss/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
  const bad: Array<[string, unknown]> = [
    ['no options at all', undefined],
    ['points that are not a list', { points: point }],
    ['no points', { points: [] }],
    ['a point that is not a multiaddr', { points: [42] }],
    ['namespaces that are not a list', { points: [point], namespaces: 'x' }],
    ['a namespace that is not a string', { points: [point], namespaces: ['app', 5] }],
    ['an empty namespace', { points: [point], namespaces: [''] }],
    ['a namespace over 255 bytes', { points: [point], namespaces: ['n'.repeat(256)] }],
    ['a negative TTL', { points: [point], ttl: -1 }],
    ['a TTL that is not a number', { points: [point], ttl: '7200' }],
    ['a refresh ratio of 1', { points: [point], refreshRatio: 1 }],
    ['a zero poll interval', { points: [point], discoverInterval: 0 }],
    ['an infinite timeout', { points: [point], timeout: Infinity }],
    ['a protocol that is not a string', { points: [point], protocol: 5 }],
    ['an empty list of protocols', { points: [point], protocol: [] }],
    ['an address filter that is not a function', { points: [point], addressFilter: 'public' }],
    ['a cache that is not a factory', { points: [point], cache: 'idb' }],
    ['a clock without timers', { points: [point], clock: { now: () => 0 } }],
    ['a visibility without subscribe', { points: [point], visibility: { visible: true } }],
    ['allowEmptyAddresses that is not a boolean', { points: [point], allowEmptyAddresses: 'yes' }]
  ]

  it.each(bad)('given %s, construction fails with InvalidParametersError', async (_, init) => {
    const components = { peerId: peerIdFromPrivateKey(await newKey()), logger: defaultLogger() } as unknown as RendezvousDiscoveryComponents
    expect(() => rendezvousDiscovery(init as RendezvousDiscoveryInit)(components)).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
  })

  it('given bad arguments to a method, it fails with InvalidParametersError and sends nothing', async () => {
    const target = await createTestPoint()
    const { service } = await started(await createTestNode(new TestNetwork().add(target), { visibility: new ManualVisibility() }))
    await settle()
    const streams = target.streams
    for (const call of [
      async () => service.register(''),
      async () => service.register('app', { ttl: -5 }),
      async () => service.discover('n'.repeat(256)),
      async () => service.discover('app', { limit: 0 }),
      async () => service.findPeers(42 as unknown as string),
      async () => service.unregister(undefined as unknown as string),
      async () => service.discoverAll('app', { pageSize: -1 }).next()
    ]) {
      await expect(call()).rejects.toHaveProperty('name', 'InvalidParametersError')
    }
    expect(target.streams).toBe(streams)
  })
})

describe('a signal that has already fired', () => {
  it('every method of the service rejects with AbortError, sends nothing and changes nothing', async () => {
    const target = await createTestPoint()
    const other = await inMemoryClient(target.server!)
    await other.client.register(target.id, 'app', { ttl: 7200 })
    const cache = memoryCache()
    const node = await started(await createTestNode(new TestNetwork().add(target), { namespaces: ['app'], cache, visibility: new ManualVisibility() }))
    // the peer is in the view, so findPeers would otherwise answer from it
    await nextEvent(node.service, 'peer')
    await settle()
    const streams = target.streams
    const registrations = node.service.getRegistrations()
    const signal = AbortSignal.abort()

    for (const call of [
      async () => node.service.register('chat', { signal }),
      async () => node.service.unregister('app', { signal }),
      async () => node.service.discover('app', { signal }),
      async () => node.service.findPeers('app', { signal }),
      async () => node.service.clearCache('app', { signal }),
      async () => node.service.discoverAll('app', { signal }).next()
    ]) {
      await expect(call()).rejects.toHaveProperty('name', 'AbortError')
    }
    await settle()
    expect(target.streams).toBe(streams)
    expect(node.service.getRegistrations()).toEqual(registrations)
    expect(node.service.getPeers('app').map(p => p.id.toString())).toEqual([other.peerId.toString()])
  })

  it('every method of the low-level client rejects with AbortError and sends nothing', async () => {
    const target = await createTestPoint()
    const privateKey = await newKey()
    const peerId = peerIdFromPrivateKey(privateKey)
    const client = new RendezvousClientService({
      peerId,
      privateKey,
      addressManager: { getAddresses: () => [multiaddr('/ip4/192.0.2.1/tcp/1')] } as unknown as AddressManager,
      connectionManager: new TestNetwork().add(target).connectionManager(peerId),
      logger: defaultLogger()
    })
    const signal = AbortSignal.abort()
    for (const call of [
      async () => client.register(target.id, 'app', { signal }),
      async () => client.unregister(target.id, 'app', { signal }),
      async () => client.discover(target.id, 'app', { signal }),
      async () => client.discoverAll(target.id, 'app', { signal }).next()
    ]) {
      await expect(call()).rejects.toHaveProperty('name', 'AbortError')
    }
    expect(target.streams).toBe(0)
  })
})
