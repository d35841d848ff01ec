import { afterEach, describe, expect, it } from 'vitest'
import { memoryCache } from '../../src/index.ts'
import { inMemoryClient } from '../fixtures/in-memory.ts'
import { memoryStore } from '../../src/server/store/memory-store.ts'
import { capturingLogger, createTestNode, createTestPoint, ManualClock, ManualVisibility, nextEvent, recordEvents, settle, started, stopServices, TestNetwork, until } from './harness.ts'
import type { RegistrationState, RendezvousDiscovery } from '../../src/index.ts'
import type { RegistrationStore } from '../../src/server/store/registration-store.ts'
import type { TestPoint } from './harness.ts'

afterEach(stopServices)

function stateAt (service: RendezvousDiscovery, point: TestPoint, namespace = 'app'): RegistrationState | undefined {
  return service.getRegistrations().find(s => s.point.equals(point.id) && s.namespace === namespace)
}

/**
 * The next `registered` state at `point`, once the run that produced it has
 * handed its refresh deadline to the scheduler (a few microtasks after the event)
 */
async function registeredAt (service: RendezvousDiscovery, point: TestPoint, after = -Infinity): Promise<RegistrationState> {
  const current = stateAt(service, point)
  const state = current?.status === 'registered' && current.updatedAt > after
    ? current
    : await nextEvent(service, 'registration:update', s => s.status === 'registered' && s.point.equals(point.id) && s.updatedAt > after) as RegistrationState
  await settle()
  return state
}

/** How many waits of `wait(0)`, `wait(1)`... ms fit in `ms` */
function dialsWithin (ms: number, wait: (n: number) => number): number {
  let count = 0
  let spent = wait(0)
  while (spent <= ms) spent += wait(++count)
  return count
}

describe('registration', () => {
  it('refreshes a registration before it expires, on the deadline set from the granted TTL', async () => {
    const clock = new ManualClock()
    const point = await createTestPoint({ now: () => clock.now() })
    const network = new TestNetwork().add(point)
    const { service } = await started(await createTestNode(network, { namespaces: ['app'], ttl: 600, clock, visibility: new ManualVisibility() }))

    const first = await registeredAt(service, point)
    expect(first.ttl).toBe(600)
    expect(first.expiresAt).toBe(first.updatedAt + 600_000)
    // refresh at 80 % of the TTL, less up to a tenth of that at random
    expect(first.refreshAt).toBeLessThanOrEqual(first.updatedAt + 0.8 * 600_000)
    expect(first.refreshAt).toBeGreaterThanOrEqual(first.updatedAt + 0.72 * 600_000)

    const attempts = recordEvents(service, 'registration:update')
    clock.advance(first.refreshAt! - clock.now() - 1)
    expect(attempts).toEqual([])
    expect(point.calls.register).toBe(1)

    clock.advance(1)
    expect(attempts.map(s => s.status)).toEqual(['registering'])
    const second = await registeredAt(service, point, first.updatedAt)
    expect(point.calls.register).toBe(2)
    expect(second.updatedAt).toBeLessThan(first.expiresAt!)
    expect(second.expiresAt).toBe(second.updatedAt + 600_000)
  })

  it('given a point that refuses a short TTL (E_INVALID_TTL), falls back to 7200 s and schedules from what was granted', async () => {
    const clock = new ManualClock()
    // rust and nim points admit nothing under 2 h
    const point = await createTestPoint({ now: () => clock.now(), minTtl: 7200 })
    const network = new TestNetwork().add(point)
    const { service } = await started(await createTestNode(network, { ttl: 300, clock, visibility: new ManualVisibility() }))

    expect(await service.register('app', { ttl: 300 })).toBe(7200)
    expect(point.streams).toBe(2)
    const state = stateAt(service, point)!
    expect(state).toMatchObject({ status: 'registered', ttl: 7200 })
    expect(state.refreshAt).toBeGreaterThanOrEqual(state.updatedAt + 0.72 * 7_200_000)

    // the point is asked for 7200 s straight away from then on
    clock.advance(state.refreshAt! - clock.now())
    await registeredAt(service, point, state.updatedAt)
    expect(point.streams).toBe(3)
  })

  it('backs off exponentially with jitter after failures at a point, without slowing the healthy one', async () => {
    const clock = new ManualClock()
    const healthy = await createTestPoint({ now: () => clock.now() })
    const dead = await createTestPoint({ now: () => clock.now() })
    dead.mode = 'refuse'
    const network = new TestNetwork().add(healthy, dead)
    const { service } = await started(await createTestNode(network, { namespaces: ['app'], clock, visibility: new ManualVisibility(), retryDelay: 1000, maxRetryDelay: 8000 }))

    const healthyState = await registeredAt(service, healthy)
    const delays: number[] = []
    let failure = stateAt(service, dead)?.status === 'error'
      ? stateAt(service, dead)!
      : await nextEvent(service, 'registration:update', s => s.status === 'error' && s.point.equals(dead.id)) as RegistrationState
    for (let i = 0; i < 6; i++) {
      delays.push(failure.retryAt! - failure.updatedAt)
      const next = nextEvent(service, 'registration:update', s => s.status === 'error' && s.point.equals(dead.id) && s.updatedAt > failure.updatedAt)
      await settle()
      clock.advance(failure.retryAt! - clock.now())
      failure = await next as RegistrationState
    }
    // each delay lies in [half, all] of 1 s doubled per failure, capped at 8 s
    const caps = [1000, 2000, 4000, 8000, 8000, 8000]
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(caps[i] / 2)
      expect(delay).toBeLessThanOrEqual(caps[i])
    })
    expect(failure).toMatchObject({ errorName: 'DialError', error: 'connection refused' })
    // the healthy point kept its own deadline and was asked once
    expect(stateAt(service, healthy)).toMatchObject({ status: 'registered', refreshAt: healthyState.refreshAt })
    expect(healthy.calls.register).toBe(1)

    // back up: the next retry succeeds and the backoff starts over
    dead.mode = 'up'
    await settle()
    clock.advance(failure.retryAt! - clock.now())
    await registeredAt(service, dead)
    dead.mode = 'refuse'
    const registered = stateAt(service, dead)!
    clock.advance(registered.refreshAt! - clock.now())
    const again = await nextEvent(service, 'registration:update', s => s.status === 'error' && s.point.equals(dead.id)) as RegistrationState
    expect(again.retryAt! - again.updatedAt).toBeLessThanOrEqual(1000)
  })

  it('given a point that never answers, registers at the others without waiting for it', async () => {
    const healthy = await createTestPoint()
    const hanging = await createTestPoint()
    hanging.mode = 'hang'
    const network = new TestNetwork().add(hanging, healthy)
    // a timeout far beyond the test's own: only the healthy point can answer
    const { service } = await started(await createTestNode(network, { namespaces: ['app'], timeout: 600_000, unregisterTimeout: 50, visibility: new ManualVisibility() }))

    await registeredAt(service, healthy)
    expect(stateAt(service, hanging)?.status).toBe('registering')
  })

  it('gives up on a request after `timeout` and retries later', async () => {
    const hanging = await createTestPoint()
    hanging.mode = 'hang'
    const { service } = await started(await createTestNode(new TestNetwork().add(hanging), { namespaces: ['app'], timeout: 50, unregisterTimeout: 50, visibility: new ManualVisibility() }))
    const failed = await nextEvent(service, 'registration:update', s => s.status === 'error')
    expect(failed.errorName).toMatch(/AbortError|TimeoutError/)
    expect(failed.retryAt).toBeGreaterThan(failed.updatedAt)
  })

  it('registers again at once when our addresses change, and not when they do not', async () => {
    const clock = new ManualClock()
    const point = await createTestPoint({ now: () => clock.now() })
    const network = new TestNetwork().add(point)
    const node = await started(await createTestNode(network, { namespaces: ['app'], clock, visibility: new ManualVisibility() }, { addresses: ['/ip4/198.51.100.1/tcp/4001'] }))
    const first = await registeredAt(node.service, point)

    const attempts = recordEvents(node.service, 'registration:update')
    node.setAddresses(['/ip4/198.51.100.1/tcp/4001'])
    expect(attempts).toEqual([])

    node.setAddresses(['/ip4/198.51.100.1/tcp/4001', '/ip4/203.0.113.9/tcp/4002/ws'])
    expect(attempts.map(s => s.status)).toEqual(['registering'])
    await registeredAt(node.service, point, first.updatedAt - 1)
    expect(point.calls.register).toBe(2)

    const observer = await inMemoryClient(point.server!)
    const { registrations } = await observer.client.discover(point.id, 'app')
    expect(registrations.map(r => r.multiaddrs.map(String))).toEqual([['/ip4/198.51.100.1/tcp/4001', '/ip4/203.0.113.9/tcp/4002/ws']])
  })

  it('looks at our addresses as soon as a listener starts (a relay reservation), not a second later', async () => {
    const point = await createTestPoint()
    const node = await started(await createTestNode(new TestNetwork().add(point), { namespaces: ['app'], visibility: new ManualVisibility() }, { addresses: [] }))
    await settle()
    expect(stateAt(node.service, point)?.status).toBe('waiting-for-addresses')
    // libp2p announces self:peer:update a second after this, debounced; the service does not wait for it
    node.setAddresses(['/ip4/198.51.100.1/tcp/4001/ws/p2p-circuit'], 'transport:listening')
    expect(stateAt(node.service, point)?.status).toBe('registering')
    await registeredAt(node.service, point)
  })

  it('without addresses sends nothing, says so once, and registers as soon as an address appears', async () => {
    const lines: string[] = []
    const points = [await createTestPoint(), await createTestPoint()]
    const network = new TestNetwork().add(...points)
    const node = await createTestNode(network, { namespaces: ['app', 'chat'], visibility: new ManualVisibility() }, { addresses: [], logger: capturingLogger(lines) })
    const states = recordEvents(node.service, 'registration:update')
    await started(node)
    await settle()

    expect(node.service.getRegistrations().map(s => s.status)).toEqual(Array(4).fill('waiting-for-addresses'))
    expect(states.map(s => s.status)).toEqual(Array(4).fill('waiting-for-addresses'))
    await expect(node.service.register('other')).rejects.toHaveProperty('name', 'NoAddressesError')
    await settle()
    expect(points.map(p => p.calls.register)).toEqual([0, 0])
    expect(lines.filter(l => l.includes('no address'))).toHaveLength(1)

    node.setAddresses(['/ip4/198.51.100.1/tcp/4001/p2p-circuit'])
    await Promise.all(points.flatMap(p => ['app', 'chat', 'other'].map(async ns =>
      stateAt(node.service, p, ns)?.status === 'registered' || nextEvent(node.service, 'registration:update', s => s.status === 'registered' && s.point.equals(p.id) && s.namespace === ns)
    )))
    expect(points.map(p => p.calls.register)).toEqual([3, 3])
  })

  it('while waiting for an address, dials the points, backing off, so that a relay reservation can happen; stops once an address appears', async () => {
    const clock = new ManualClock()
    const visibility = new ManualVisibility()
    // hidden from the start: no discovery poll will connect to the point either
    visibility.visible = false
    const point = await createTestPoint({ now: () => clock.now() })
    const node = await started(await createTestNode(new TestNetwork().add(point), { namespaces: ['app'], retryDelay: 1000, maxRetryDelay: 8000, clock, visibility }, { addresses: [] }))
    await settle()
    expect(stateAt(node.service, point)?.status).toBe('waiting-for-addresses')
    expect(point.dials).toBe(1)
    expect(point.streams).toBe(0)

    // a minute of waiting, a second at a time: the n-th wait is 1 s doubled n - 1 times, capped
    // at 8 s, less up to half at random, and the clock may pass a deadline by up to a step
    const step = 1000
    const minute = 60_000
    for (let waited = 0; waited < minute; waited += step) {
      clock.advance(step)
      await settle(2)
    }
    const wait = (n: number): number => Math.min(1000 * 2 ** n, 8000)
    expect(point.dials).toBeGreaterThanOrEqual(1 + dialsWithin(minute, n => wait(n) + step))
    expect(point.dials).toBeLessThanOrEqual(1 + dialsWithin(minute, n => wait(n) / 2))

    node.setAddresses(['/ip4/198.51.100.1/tcp/4001/p2p-circuit'], 'transport:listening')
    await registeredAt(node.service, point)
    const dials = point.dials
    clock.advance(600_000)
    await settle()
    expect(point.dials).toBe(dials)
  })

  it('given allowEmptyAddresses, registers a record without addresses', async () => {
    const point = await createTestPoint()
    const network = new TestNetwork().add(point)
    const { service } = await started(await createTestNode(network, { allowEmptyAddresses: true, visibility: new ManualVisibility() }, { addresses: [] }))
    expect(await service.register('app', { ttl: 300 })).toBe(300)
    const observer = await inMemoryClient(point.server!)
    const { registrations } = await observer.client.discover(point.id, 'app')
    expect(registrations[0].multiaddrs).toEqual([])
  })

  it('sequence numbers only grow, across a reload and a clock that steps back', async () => {
    const clock = new ManualClock()
    const point = await createTestPoint({ now: () => clock.now() })
    const network = new TestNetwork().add(point)
    const cache = memoryCache()
    const observer = await inMemoryClient(point.server!)
    const seqOf = async (): Promise<bigint> => (await observer.client.discover(point.id, 'app')).registrations[0].seq

    const first = await started(await createTestNode(network, { cache, clock, visibility: new ManualVisibility() }))
    await first.service.register('app')
    const before = await seqOf()
    await first.service.stop()

    // the wall clock goes back an hour, then the page is loaded again with the same key
    clock.jump(-3_600_000)
    const second = await started(await createTestNode(network, { cache, clock, visibility: new ManualVisibility() }, { privateKey: first.privateKey, addresses: ['/ip4/198.51.100.1/tcp/4001', '/ip4/198.51.100.1/udp/4001/quic-v1'] }))
    await second.service.register('app')
    const after = await seqOf()
    expect(after).toBeGreaterThan(before)
  })

  it('register and unregister: the granted TTL, the state, and the point forgetting us', async () => {
    const points = [await createTestPoint({ maxTtl: 3600, defaultTtl: 3600 }), await createTestPoint()]
    const network = new TestNetwork().add(...points)
    const { service } = await started(await createTestNode(network, { visibility: new ManualVisibility() }))

    // one point refuses 7200 s outright (E_INVALID_TTL is only retried for a TTL below 7200 s)
    expect(await service.register('app', { ttl: 3000 })).toBe(3000)
    await expect(service.register('big', { ttl: 7200 })).resolves.toBe(7200)
    expect(stateAt(service, points[0], 'big')).toMatchObject({ status: 'error', errorName: 'InvalidTTLError' })

    const events = recordEvents(service, 'registration:update')
    await service.unregister('app')
    expect(events.map(e => e.status)).toEqual(['unregistered', 'unregistered'])
    expect(service.getRegistrations().filter(s => s.namespace === 'app')).toEqual([])
    const observer = await inMemoryClient(points[1].server!)
    expect((await observer.client.discover(points[1].id, 'app')).registrations).toEqual([])
    expect(points.map(p => p.calls.unregister)).toEqual([1, 1])
  })

  it('on stop, waits until each point has handled the UNREGISTER (which has no answer), within the time box', async () => {
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    let reached = false
    let handled = false
    const inner = memoryStore()
    const slow: RegistrationStore = {
      register: inner.register.bind(inner),
      discover: inner.discover.bind(inner),
      namespaceStats: inner.namespaceStats.bind(inner),
      prune: inner.prune.bind(inner),
      async unregister (...args) {
        reached = true
        await gate
        const removed = await inner.unregister(...args)
        handled = true
        return removed
      }
    }
    const point = await createTestPoint({}, slow)
    const { service } = await started(await createTestNode(new TestNetwork().add(point), { namespaces: ['app'], unregisterTimeout: 600_000, visibility: new ManualVisibility() }))
    await registeredAt(service, point)

    let stopped = false
    const stopping = Promise.resolve(service.stop()).then(() => { stopped = true })
    await until(() => reached)
    await settle()
    expect(stopped).toBe(false)
    release()
    await stopping
    expect(handled).toBe(true)
  })

  it('rejects at once for a caller that has already given up', async () => {
    const point = await createTestPoint()
    const { service } = await started(await createTestNode(new TestNetwork().add(point), { visibility: new ManualVisibility() }))
    await expect(service.register('app', { signal: AbortSignal.abort() })).rejects.toHaveProperty('name', 'AbortError')
    await expect(service.unregister('app', { signal: AbortSignal.abort() })).rejects.toHaveProperty('name', 'AbortError')
  })

  it('given several points that all fail, rejects with every failure', async () => {
    const points = [await createTestPoint(), await createTestPoint()]
    points.forEach(p => { p.mode = 'refuse' })
    const { service } = await started(await createTestNode(new TestNetwork().add(...points), { visibility: new ManualVisibility() }))
    const err = await service.register('app').catch(err => err)
    expect(err).toHaveProperty('name', 'AllPointsFailedError')
    expect(err.errors.map((e: Error) => e.message)).toEqual(['connection refused', 'connection refused'])
  })
})
