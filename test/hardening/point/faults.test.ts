/**
 * Faults on the point's side: the point process is killed and started again
 * at the same address with the same key; one of two points goes down; a
 * client stops. Clients here are real nodes with the low-level client (the
 * discovery service's own recovery is tested with the SDK), and the point is
 * the real command line where a process is what fails.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { UNANSWERED } from '../../fixtures/harness.ts'
import { createClient, createPoint, stopNodes } from '../../fixtures/nodes.ts'
import { killAll, startClient, startPoint as startCliPoint } from '../../cli/cli-process.ts'
import { freePort, startRedis } from '../../store/redis-server.ts'
import { inBatches, report, watchUnhandled } from './support.ts'
import type { ClientNode } from '../../fixtures/nodes.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

const unhandled = watchUnhandled()
afterAll(() => {
  unhandled.stop()
  expect(unhandled.seen).toEqual([])
})

afterEach(async () => {
  await stopNodes()
  await killAll()
})

/** Why registrations had to be tried again */
const retried: string[] = []

/**
 * Register until the point takes it, waiting a little longer after each
 * failure, at most `attempts` times: what an application does when its point
 * is away. Resolves with the number of attempts it took.
 */
async function registerWithRetries (client: ClientNode, point: Multiaddr, namespace: string, attempts = 8): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.client.register(point, namespace, { ttl: 600 })
      return attempt
    } catch (err) {
      retried.push((err as Error).name)
      if (attempt >= attempts) throw err
      await new Promise(resolve => setTimeout(resolve, 50 * 2 ** attempt))
    }
  }
}

/** Each peer's registrations in `namespace`, as the point reports them to `asker` */
async function registrationsPerPeer (asker: ClientNode, point: Multiaddr, namespace: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  for await (const registration of asker.client.discoverAll(point, namespace)) {
    counts.set(registration.peerId.toString(), (counts.get(registration.peerId.toString()) ?? 0) + 1)
  }
  return counts
}

describe('faults on the point side', () => {
  it.each([
    { store: 'memory', survives: false },
    { store: 'redis', survives: true }
  ])('given a point with a $store store is killed and started again at the same address with the same key, then clients register again and nothing is registered twice', async ({ store, survives }) => {
    const directory = await mkdtemp(join(tmpdir(), 'rendezvous-point-'))
    const redis = store === 'redis' ? await startRedis() : undefined
    try {
      const args = ['--port', String(await freePort()), '--key-file', join(directory, 'point.key'), '--store', redis?.url ?? 'memory:']
      const first = await startCliPoint(args)
      const address = multiaddr(first.multiaddrs.find(ma => !ma.includes('/ws')) ?? first.multiaddrs[0])

      const clients = await inBatches(Array.from({ length: 6 }), 3, async () => createClient({}, 'tcp'))
      await Promise.all(clients.map(async client => registerWithRetries(client, address, 'restart')))
      const { cookie } = await clients[0].client.discover(address, 'restart')
      const expected = new Map(clients.map(c => [c.node.peerId.toString(), 1]))
      expect(await registrationsPerPeer(clients[0], address, 'restart')).toEqual(expected)

      expect((await first.cli.stop('SIGKILL')).signal).toBe('SIGKILL')
      const whileDown = await Promise.allSettled(clients.map(async client => client.client.register(address, 'restart', { ttl: 600 })))
      expect(whileDown.map(r => r.status)).toEqual(Array(clients.length).fill('rejected'))

      const second = await startCliPoint(args)
      expect(second.peerId).toBe(first.peerId)
      expect(second.multiaddrs).toContain(address.toString())
      // a shared store kept everything; a memory store came back empty
      const kept = await registrationsPerPeer(clients[0], address, 'restart')
      expect(kept).toEqual(survives ? expected : new Map())

      const attempts = await Promise.all(clients.map(async client => registerWithRetries(client, address, 'restart')))
      // everyone once, and registering again changes nothing
      expect(await registrationsPerPeer(clients[1], address, 'restart')).toEqual(expected)
      await Promise.all(clients.map(async client => registerWithRetries(client, address, 'restart')))
      expect(await registrationsPerPeer(clients[2], address, 'restart')).toEqual(expected)

      if (survives) {
        // the store holds the cookie secret too: an old cookie goes on working, and sees each re-registration once
        const { registrations } = await clients[0].client.discover(address, 'restart', { cookie })
        expect(registrations.map(r => r.peerId.toString()).sort()).toEqual([...expected.keys()].sort())
      } else {
        // a cookie of the point that died means nothing to the new one; without it, discovery works again
        await expect(clients[0].client.discover(address, 'restart', { cookie })).rejects.toHaveProperty('name', 'InvalidCookieError')
        expect((await clients[0].client.discover(address, 'restart')).registrations).toHaveLength(clients.length)
      }

      // a burst of reconnections from one address can exceed what libp2p lets in per second and host; retrying copes
      report(`point with a ${store} store restarted`, {
        clients: clients.length,
        keptOverRestart: kept.size,
        failedWhileDown: whileDown.length,
        attemptsAfterRestart: attempts,
        retriedBecause: retried.splice(0),
        samePeerId: second.peerId === first.peerId
      })
    } finally {
      await killAll()
      await redis?.destroy()
      await rm(directory, { recursive: true, force: true })
    }
  })

  it('given two points and one goes down, then registration and discovery go on through the other', async () => {
    const [north, south] = [await createPoint({}, 'tcp'), await createPoint({}, 'tcp')]
    const clients = await inBatches(Array.from({ length: 6 }), 3, async () => createClient({}, 'tcp'))
    for (const point of [north, south]) {
      await Promise.all(clients.map(async client => client.client.register(point.address, 'pair', { ttl: 600 })))
    }

    await north.node.stop()
    const outcomes = await Promise.all(clients.map(async client => Promise.allSettled([north, south].map(async point => client.client.register(point.address, 'pair', { ttl: 600 })))))
    expect(outcomes.map(([atNorth, atSouth]) => [atNorth.status, atSouth.status])).toEqual(Array(clients.length).fill(['rejected', 'fulfilled']))

    // a newcomer that only ever reaches the point that is up is found by everyone there, and finds everyone
    const newcomer = await createClient({}, 'tcp')
    await expect(newcomer.client.register(north.address, 'pair', { ttl: 600 })).rejects.toBeDefined()
    await newcomer.client.register(south.address, 'pair', { ttl: 600 })
    const everyone = new Map([...clients, newcomer].map(c => [c.node.peerId.toString(), 1]))
    for (const asker of [clients[0], newcomer]) {
      expect(await registrationsPerPeer(asker, south.address, 'pair')).toEqual(everyone)
    }
    await expect(newcomer.client.discover(north.address, 'pair')).rejects.toBeDefined()
    expect(await south.server.getNamespaceStats()).toEqual(new Map([['pair', clients.length + 1]]))
    report('one of two points down', { clients: clients.length + 1, registeredThroughTheOther: outcomes.length + 1, discoveredThroughTheOther: everyone.size })
  })

  it('given clients of the command line stop cleanly, then they leave nothing registered; one that is killed stays until its ttl', async () => {
    const { address, server } = await createPoint({}, 'tcp')
    const count = async (): Promise<number> => (await server.getNamespaceStats()).get('rendezvous') ?? 0
    const leavers = []
    for (let i = 0; i < 3; i++) leavers.push(await startClient(address.toString()))
    const killed = await startClient(address.toString())
    expect(await count()).toBe(4)

    const exits = await Promise.all(leavers.map(async ({ cli }) => cli.stop('SIGTERM')))
    expect(exits).toEqual(Array(3).fill({ code: 0, signal: null }))
    await vi.waitFor(async () => { expect(await count()).toBe(1) }, UNANSWERED)

    // no chance to say goodbye: the registration lapses with its ttl, not with the connection
    await killed.cli.stop('SIGKILL')
    const { registrations } = await (await createClient({}, 'tcp')).client.discover(address, 'rendezvous')
    expect(registrations.map(r => r.peerId.toString())).toEqual([killed.peerId])
    report('clients that stop', { stoppedCleanly: leavers.length, leftRegistered: await count() - 1, killedAndStillRegistered: 1 })
  })
})
