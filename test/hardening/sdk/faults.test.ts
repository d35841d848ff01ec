/**
 * Faults, with real libp2p nodes over TCP on loopback: a point killed and
 * brought back (same key, same port, empty store), one of two points down,
 * and clients stopping cleanly. The service's clock is a manual one (a
 * stand-in it takes for tests), so backoff bounds are checked against the
 * configured schedule rather than against how fast this machine is; libp2p
 * itself runs on real time.
 */
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { rendezvousDiscovery } from '../../../src/index.ts'
import { ManualClock, until } from '../../discovery/harness.ts'
import { createPoint, stopNodes } from '../../fixtures/nodes.ts'
import { newKey } from '../../fixtures/records.ts'
import { report, watchProcess } from './support.ts'
import type { RendezvousDiscovery, RendezvousDiscoveryInit } from '../../../src/index.ts'
import type { PointNode } from '../../fixtures/nodes.ts'
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

type Client = Libp2p<{ rendezvous: RendezvousDiscovery }>

const watch = watchProcess()
afterAll(() => { watch.stop() })
const clients: Client[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map(async node => node.stop()))
  await stopNodes()
  expect(watch.failures).toEqual([])
})

const SETTINGS = {
  namespaces: ['app'],
  cache: false,
  retryDelay: 1000,
  maxRetryDelay: 8000,
  discoverInterval: 10_000
} satisfies Partial<RendezvousDiscoveryInit>

async function createClient (points: Multiaddr[], init: Partial<RendezvousDiscoveryInit> = {}): Promise<Client> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { rendezvous: rendezvousDiscovery({ points, ...SETTINGS, ...init }) }
  })
  clients.push(node)
  return node
}

async function registrations (point: PointNode, namespace = 'app'): Promise<number> {
  return (await point.server.getNamespaceStats()).get(namespace) ?? 0
}

function sees (client: Client, others: Client[]): boolean {
  const peers = client.services.rendezvous.getPeers('app').map(p => p.id.toString())
  return others.every(other => other === client || peers.includes(other.peerId.toString()))
}

/**
 * Move the clock on by `step` until `condition` holds, letting real I/O run in
 * between. For getting somewhere, not for bounds: those are checked on their own.
 */
async function drive (clock: ManualClock, step: number, condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) {
    clock.advance(step)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

function stateAt (client: Client, point: PointNode): ReturnType<RendezvousDiscovery['getPoints']>[number] | undefined {
  return client.services.rendezvous.getPoints().find(s => s.point.equals(point.node.peerId))
}

describe('faults', () => {
  it('a point killed and restarted with an empty store: every client registers again within its backoff bound, once, and discovery recovers', async () => {
    const clock = new ManualClock()
    const key = await newKey()
    const point = await createPoint({}, 'tcp', { privateKey: key })
    const listen = point.node.getMultiaddrs()[0].decapsulateCode(421).toString()
    const group: Client[] = []
    for (let i = 0; i < 4; i++) group.push(await createClient([point.address], { clock }))
    await Promise.all(group.map(async node => node.start()))
    await until(async () => await registrations(point) === group.length)
    await drive(clock, SETTINGS.discoverInterval, () => group.every(node => sees(node, group)))

    await point.node.stop()
    await until(() => group.every(node => stateAt(node, point)?.status !== 'ok'))
    // down for a while: polls fail and back off as far as they go
    await drive(clock, SETTINGS.discoverInterval, () => group.every(node => stateAt(node, point)?.status === 'error'))
    for (let i = 0; i < 5; i++) {
      clock.advance(SETTINGS.maxRetryDelay)
      // until every poll that came due has failed again: a dial still on its way when the point
      // comes back would be joined by the next one and fail it too, which is libp2p's business, not ours
      await until(() => group.every(node => (stateAt(node, point)?.retryAt ?? 0) > clock.now()))
    }

    const again = await createPoint({}, 'tcp', { privateKey: key, listen })
    expect(again.node.peerId.equals(point.node.peerId)).toBe(true)
    expect(await registrations(again)).toBe(0)
    const restartedAt = clock.now()
    // a failing point is polled again after its backoff (at most maxRetryDelay) or the poll interval, whichever is longer
    const bound = Math.max(SETTINGS.maxRetryDelay, SETTINGS.discoverInterval)
    clock.advance(bound)
    await until(() => group.every(node => node.services.rendezvous.getRegistrations().some(s => s.status === 'registered' && s.updatedAt > restartedAt)))
    for (const node of group) {
      const state = node.services.rendezvous.getRegistrations().find(s => s.status === 'registered')!
      expect(state.updatedAt).toBeLessThanOrEqual(restartedAt + bound)
      expect(stateAt(node, point)?.status).toBe('ok')
    }
    // nothing twice
    expect(Object.fromEntries(await again.server.getNamespaceStats())).toEqual({ app: group.length })

    // discovery works through the new point: a newcomer finds everyone, and everyone finds it
    const newcomer = await createClient([point.address], { clock })
    await newcomer.start()
    await until(async () => await registrations(again) === group.length + 1)
    const everyone = [...group, newcomer]
    await drive(clock, SETTINGS.discoverInterval, () => everyone.every(node => sees(node, everyone)))
    expect(Object.fromEntries(await again.server.getNamespaceStats())).toEqual({ app: everyone.length })
    report('point restart', {
      clients: group.length,
      'clock to register again (bound)': `${Math.max(...group.map(node => node.services.rendezvous.getRegistrations()[0].updatedAt)) - restartedAt}ms (${bound}ms)`,
      'registered after': (await again.server.getNamespaceStats()).get('app') ?? 0
    })
  })

  it('two points, one down: registration and discovery go on through the other', async () => {
    const clock = new ManualClock()
    const [up, down] = [await createPoint(), await createPoint()]
    const points = [up.address, down.address]
    const early = [await createClient(points, { clock }), await createClient(points, { clock })]
    await Promise.all(early.map(async node => node.start()))
    await until(async () => await registrations(up) === 2 && await registrations(down) === 2)

    await down.node.stop()
    const late = await createClient(points, { clock })
    await late.start()
    await until(async () => await registrations(up) === 3)
    await until(() => stateAt(late, down)?.status === 'error' && late.services.rendezvous.getRegistrations().some(s => s.status === 'registered'))
    const states = late.services.rendezvous.getRegistrations()
    expect(states.find(s => s.point.equals(up.node.peerId))?.status).toBe('registered')
    expect(states.find(s => s.point.equals(down.node.peerId))?.status).toBe('error')

    const everyone = [...early, late]
    await drive(clock, SETTINGS.discoverInterval, () => everyone.every(node => sees(node, everyone)))
    for (const node of everyone) {
      expect(stateAt(node, up)?.status).toBe('ok')
      expect(stateAt(node, down)?.status).not.toBe('ok')
    }
    const newcomer = late.services.rendezvous.getPeers('app')
    expect(newcomer.every(peer => peer.points.includes(up.node.peerId.toString()))).toBe(true)
    report('one of two points down', {
      clients: everyone.length,
      'registered at the live point': await registrations(up),
      'down point reported as': stateAt(late, down)?.errorName ?? ''
    })
  })

  it('clients that stop cleanly leave nothing registered, by the time stop() resolves', async () => {
    const points = [await createPoint(), await createPoint()]
    const group: Client[] = []
    for (let i = 0; i < 5; i++) group.push(await createClient(points.map(p => p.address), { namespaces: ['app', 'chat'] }))
    await Promise.all(group.map(async node => node.start()))
    for (const point of points) {
      await until(async () => await registrations(point, 'app') === group.length && await registrations(point, 'chat') === group.length)
    }

    await Promise.all(group.map(async node => node.stop()))
    // no waiting: stop() resolves once every point has read its UNREGISTERs
    const left = await Promise.all(points.map(async point => Object.fromEntries(await point.server.getNamespaceStats())))
    expect(left).toEqual([{}, {}])
    report('clean stop', { clients: group.length, 'registrations before': group.length * 2 * points.length, 'registrations after': left.reduce((sum, stats) => sum + Object.keys(stats).length, 0) })
  })
})
