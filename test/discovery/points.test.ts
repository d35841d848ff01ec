/**
 * What the service knows about each rendezvous point (`getPoints()`,
 * `point:update`), and how it gets its registration back at a point that
 * forgot it: when the connection opens again, or when a walk no longer
 * returns our own record.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { inMemoryClient } from '../fixtures/in-memory.ts'
import { createTestNode, createTestPoint, ManualClock, ManualVisibility, nextEvent, recordEvents, settle, started, stopServices, TestNetwork } from './harness.ts'
import type { RegistrationState, RendezvousDiscovery } from '../../src/index.ts'
// not yet re-exported by the package entry point
import type { PointState } from '../../src/discovery/index.ts'
import type { TestPoint } from './harness.ts'

afterEach(stopServices)

function pointState (service: RendezvousDiscovery, point: TestPoint): PointState | undefined {
  return service.getPoints().find(s => s.point.equals(point.id))
}

async function pointStatus (service: RendezvousDiscovery, point: TestPoint, status: PointState['status']): Promise<PointState> {
  const state = pointState(service, point)
  if (state?.status === status) return state
  return nextEvent(service, 'point:update', s => s.point.equals(point.id) && s.status === status)
}

async function registeredAt (service: RendezvousDiscovery, point: TestPoint, after = -Infinity): Promise<RegistrationState> {
  const current = service.getRegistrations().find(s => s.point.equals(point.id) && s.status === 'registered' && s.updatedAt > after)
  const state = current ?? await nextEvent(service, 'registration:update', s => s.status === 'registered' && s.point.equals(point.id) && s.updatedAt > after) as RegistrationState
  await settle()
  return state
}

/** Whom the point holds in `namespace`, asked by an outsider */
async function heldAt (point: TestPoint, namespace = 'app'): Promise<string[]> {
  const observer = await inMemoryClient(point.server!)
  return (await observer.client.discover(point.id, namespace)).registrations.map(r => r.peerId.toString())
}

describe('points', () => {
  it('tells how each point is doing: connecting, then ok or error with when it is tried again, then ok once it answers', async () => {
    const clock = new ManualClock()
    const healthy = await createTestPoint({ now: () => clock.now() })
    const dead = await createTestPoint({ now: () => clock.now() })
    dead.mode = 'refuse'
    const node = await createTestNode(new TestNetwork().add(healthy, dead), { namespaces: ['app'], retryDelay: 1000, clock, visibility: new ManualVisibility() })
    expect(node.service.getPoints()).toEqual([])
    const updates = recordEvents(node.service, 'point:update')
    await node.service.start()
    expect(node.service.getPoints()).toEqual([])
    const start = clock.now()
    await started(node)

    await pointStatus(node.service, healthy, 'ok')
    await registeredAt(node.service, healthy)
    expect(pointState(node.service, healthy)?.lastSuccessAt).toBe(start)
    const failed = await pointStatus(node.service, dead, 'error')
    expect(failed).toMatchObject({ errorName: 'DialError', error: 'connection refused' })
    expect(failed.retryAt).toBeGreaterThan(start)
    expect(node.service.getPoints().map(s => [s.point.toString(), s.status])).toEqual([[healthy.id.toString(), 'ok'], [dead.id.toString(), 'error']])

    // every failure in a row is not news; the point coming back is
    await settle()
    const seen = updates.length
    dead.mode = 'up'
    clock.advance(failed.retryAt! - clock.now())
    const back = await pointStatus(node.service, dead, 'ok')
    expect(back.error).toBeUndefined()
    await registeredAt(node.service, dead)
    expect(pointState(node.service, dead)?.lastSuccessAt).toBe(clock.now())
    expect(updates.slice(seen).map(s => s.status)).toEqual(['ok'])
    expect(updates.filter(s => s.point.equals(healthy.id)).map(s => s.status)).toEqual(['ok'])
  })

  it('a point that refuses what we ask is still reachable: ok, with the refusal in the registration state', async () => {
    const point = await createTestPoint({ maxTtl: 3600, defaultTtl: 3600 })
    const { service } = await started(await createTestNode(new TestNetwork().add(point), { visibility: new ManualVisibility() }))
    await expect(service.register('app', { ttl: 7200 })).rejects.toHaveProperty('name', 'InvalidTTLError')
    expect(pointState(service, point)?.status).toBe('ok')
    expect(service.getRegistrations()[0]).toMatchObject({ status: 'error', errorName: 'InvalidTTLError' })
  })

  it('when the connection to a point closes, it is connecting until it opens again', async () => {
    const point = await createTestPoint()
    const network = new TestNetwork().add(point)
    const { service } = await started(await createTestNode(network, { namespaces: ['app'], visibility: new ManualVisibility() }))
    await pointStatus(service, point, 'ok')
    await registeredAt(service, point)

    network.disconnect(point)
    expect(pointState(service, point)?.status).toBe('connecting')
    await service.discover('app')
    expect(pointState(service, point)?.status).toBe('ok')
  })

  it('a point that restarted with an empty store: registers there again as soon as the connection opens again, not at the next refresh', async () => {
    const clock = new ManualClock()
    const point = await createTestPoint({ now: () => clock.now() })
    const network = new TestNetwork().add(point)
    // registered but not polled, so nothing but the reconnection can tell
    const node = await started(await createTestNode(network, { clock, visibility: new ManualVisibility() }))
    await node.service.register('app')
    const first = await registeredAt(node.service, point)
    expect(point.calls.register).toBe(1)

    await point.restart!()
    network.disconnect(point)
    expect(await heldAt(point)).toEqual([])

    // libp2p opens a connection again (a relay reservation, another protocol...) and says so
    node.events.safeDispatchEvent('peer:connect', { detail: point.id })
    const again = await registeredAt(node.service, point, first.updatedAt - 1)
    expect(again.updatedAt).toBeLessThan(first.refreshAt!)
    expect(await heldAt(point)).toEqual([node.peerId.toString()])
    expect(point.calls.register).toBe(2)
  })

  it('does not register again for the connection its own first REGISTER opened, nor twice where a REGISTER opened it', async () => {
    const point = await createTestPoint()
    const network = new TestNetwork().add(point)
    const node = await started(await createTestNode(network, { namespaces: ['app'], visibility: new ManualVisibility() }))
    await registeredAt(node.service, point)
    await settle()
    expect(point.calls.register).toBe(1)

    // a REGISTER in a new namespace opens the connection after a disconnection: that one
    // goes once, and the namespace registered before goes again (the point may have restarted)
    network.disconnect(point)
    await node.service.register('chat')
    await settle()
    expect(point.calls.register).toBe(1 + 2)
  })

  it('a complete walk from scratch that no longer returns our own record registers again at once, and only where it did return it before', async () => {
    const clock = new ManualClock()
    const point = await createTestPoint({ now: () => clock.now() })
    const network = new TestNetwork().add(point)
    const node = await started(await createTestNode(network, { namespaces: ['app'], clock, visibility: new ManualVisibility() }))
    const first = await registeredAt(node.service, point)
    // a poll that returns our own record
    clock.advance(60_000)
    await settle()
    expect(await heldAt(point)).toEqual([node.peerId.toString()])

    // the store is lost but the connection stays up (a shared store flushed, say): no event tells
    await point.restart!()
    clock.advance(60_000)
    const again = await registeredAt(node.service, point, first.updatedAt)
    expect(again.updatedAt).toBeLessThan(first.refreshAt!)
    expect(await heldAt(point)).toEqual([node.peerId.toString()])
  })
})
