import { afterEach, describe, it, expect, vi } from 'vitest'
import { discoverRequest, unregisterRequest } from '../../src/protocol/messages.ts'
import { StoreUnavailableError } from '../../src/server/store/registration-store.ts'
import { MemoryRegistrationStore } from '../../src/server/store/memory-store.ts'
import { CARRIERS, UNANSWERED, startPoint, stopPoints } from '../fixtures/harness.ts'
import { manualClock } from '../fixtures/clock.ts'
import { inMemoryPoint } from '../fixtures/in-memory.ts'
import type { RendezvousServerInit } from '../../src/server/index.ts'

const minutes = 60_000

/** A store whose backend fails every call the way `failure` says */
class FailingStore extends MemoryRegistrationStore {
  constructor (private readonly failure: () => Error) { super() }
  override async register (): Promise<never> { throw this.failure() }
  override async unregister (): Promise<never> { throw this.failure() }
  override async discover (): Promise<never> { throw this.failure() }
}

describe.each(CARRIERS)('the point as a service, over %s', (carrier) => {
  afterEach(stopPoints)

  it('given registrations in several namespaces, then the stats count the unexpired ones per namespace', async () => {
    const clock = manualClock()
    const point = await startPoint(carrier, { now: clock.now })
    const [alice, bob] = [await point.peer(), await point.peer()]
    await alice.client.register(point.target, 'a', { ttl: 300 })
    await alice.client.register(point.target, 'b', { ttl: 600 })
    await bob.client.register(point.target, 'a', { ttl: 600 })
    expect(await point.server.getNamespaceStats()).toEqual(new Map([['a', 2], ['b', 1]]))

    clock.advance(5 * minutes)
    expect(await point.server.getNamespaceStats()).toEqual(new Map([['a', 1], ['b', 1]]))
    clock.advance(5 * minutes)
    expect(await point.server.getNamespaceStats()).toEqual(new Map())
  })

  it('given a registration expires, then the sweep removes it from the store for good', async () => {
    const clock = manualClock()
    const store = new MemoryRegistrationStore()
    const point = await startPoint(carrier, { now: clock.now, store, gcInterval: 10 })
    const [alice, bob] = [await point.peer(), await point.peer()]
    await alice.client.register(point.target, 'app', { ttl: 300 })
    await bob.client.register(point.target, 'app', { ttl: 600 })
    const registeredAt = clock.now()

    clock.advance(5 * minutes)
    // asked about a moment before it expired, a store that merely hides expired entries would still count it
    await vi.waitFor(async () => { expect(await store.namespaceStats(registeredAt)).toEqual(new Map([['app', 1]])) }, UNANSWERED)
  })

  it.each([
    { given: 'a store that is down', failure: () => new StoreUnavailableError(), name: 'UnavailableError', status: 'E_UNAVAILABLE' },
    { given: 'a store that fails unexpectedly', failure: () => new Error('disk on fire'), name: 'InternalError', status: 'E_INTERNAL_ERROR' }
  ])('given $given, then REGISTER and DISCOVER are answered with $status and no detail', async ({ failure, name, status }) => {
    const point = await startPoint(carrier, { store: new FailingStore(failure) })
    const alice = await point.peer()
    const expected = { name, status, statusText: status === 'E_UNAVAILABLE' ? 'storage is unavailable, try again later' : 'internal error' }
    await expect(alice.client.register(point.target, 'app', { ttl: 300 })).rejects.toMatchObject(expected)
    await expect(alice.client.discover(point.target, 'app')).rejects.toMatchObject(expected)
  })

  it('given a store that fails an UNREGISTER, then the point stays silent and goes on serving the stream', async () => {
    const point = await startPoint(carrier, { store: new FailingStore(() => new StoreUnavailableError()) })
    const raw = await (await point.peer()).session()
    await raw.send(unregisterRequest('app'))
    expect((await raw.request(discoverRequest('app'))).discoverResponse?.status).toBe('E_UNAVAILABLE')
  })
})

describe('the point\'s settings', () => {
  it('given no settings, then the limits are the spec\'s recommendations with a browser-friendly minimum ttl', async () => {
    const { server } = await inMemoryPoint()
    expect(server.policy).toEqual({
      minTtl: 120,
      maxTtl: 72 * 60 * 60,
      defaultTtl: 2 * 60 * 60,
      maxNamespaceLength: 255,
      maxRegistrationsPerPeer: 1000,
      maxRegistrations: 100_000,
      maxDiscoverLimit: 1000,
      allowEmptyAddresses: false,
      acceptLegacyRecords: true,
      servePeerInfoClients: true
    })
    await server.stop()
  })

  it.each<{ given: string, init: RendezvousServerInit }>([
    { given: 'a maximum ttl above 72 h', init: { maxTtl: 72 * 60 * 60 + 1 } },
    { given: 'a minimum ttl of 0', init: { minTtl: 0 } },
    { given: 'a minimum ttl above the maximum', init: { minTtl: 600, maxTtl: 300 } },
    { given: 'a default ttl outside the bounds', init: { defaultTtl: 60 } },
    { given: 'a discover limit of 0', init: { maxDiscoverLimit: 0 } },
    { given: 'a per-peer limit of 0', init: { maxRegistrationsPerPeer: 0 } },
    { given: 'a total limit of 0', init: { maxRegistrations: 0 } },
    { given: 'a namespace limit of 0', init: { maxNamespaceLength: 0 } }
  ])('given $given, then the point refuses to be made', async ({ init }) => {
    await expect(inMemoryPoint(init)).rejects.toHaveProperty('name', 'InvalidParametersError')
  })
})

describe.each(['tcp', 'ws'] as const)('starting and stopping, over %s', (carrier) => {
  afterEach(stopPoints)

  it('given a stopped point, then it takes no rendezvous streams until started again, and keeps its registrations', async () => {
    const point = await startPoint(carrier)
    const alice = await point.peer()
    await alice.client.register(point.target, 'app', { ttl: 300 })

    await point.server.stop()
    await expect(alice.client.discover(point.target, 'app')).rejects.toHaveProperty('name', 'UnsupportedProtocolError')

    await point.server.start()
    expect((await alice.client.discover(point.target, 'app')).registrations).toHaveLength(1)
  })
})
