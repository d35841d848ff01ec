/**
 * Peers that vanish leave: a point drops the registrations of a peer whose
 * last connection to it closed, when every address of its record is a relay
 * path through that point. Real nodes on loopback; the vanishing peer of the
 * first test is a process killed with SIGKILL, as a crashed tab is.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { rendezvousClient } from '../../src/index.ts'
import { MemoryRegistrationStore } from '../../src/server/index.ts'
import { RENDEZVOUS_PROTOCOL } from '../../src/constants.ts'
import { parseRegisterResponse, registerRequest } from '../../src/protocol/messages.ts'
import { killAll, startCli } from '../cli/cli-process.ts'
import { createClient, createPoint, stopNodes } from '../fixtures/nodes.ts'
import { newKey, signRecord } from '../fixtures/records.ts'
import { rawSession } from '../fixtures/session.ts'
import { browserShaped, cleanUp } from '../point/support.ts'
import type { PointNode } from '../fixtures/nodes.ts'
import type { RegistrationStore, RendezvousServerInit } from '../../src/server/index.ts'
import type { Libp2p, PrivateKey } from '@libp2p/interface'

/** How long to keep looking for a peer to leave: generous for a busy machine, and never a measurement */
const LEAVING = { timeout: 30_000, interval: 100 }

afterEach(async () => {
  await killAll()
  // browser-shaped peers before the points they dialled
  await cleanUp()
  await stopNodes()
})

/** Who a fresh client finds in `namespace` at `point` */
async function listed (point: PointNode, namespace: string): Promise<string[]> {
  const { client } = await createClient({}, 'ws')
  return (await client.discover(point.address, namespace)).registrations.map(r => r.peerId.toString())
}

/** REGISTER a record signed by `key` (the key of `node`) with the given addresses, on a raw stream */
async function registerRecord (node: Libp2p, key: PrivateKey, point: PointNode, namespace: string, multiaddrs: string[], seq = 1n): Promise<void> {
  const session = rawSession(await node.dialProtocol(point.address, RENDEZVOUS_PROTOCOL))
  try {
    expect(parseRegisterResponse(await session.request(registerRequest(namespace, await signRecord(key, { multiaddrs, seq }), 300)))).toBe(300)
  } finally {
    await session.close()
  }
}

/** The memory store seen only through the store interface, unregistering by relay as given, or not at all */
function storeOver (memory: MemoryRegistrationStore, unregisterRelayed?: RegistrationStore['unregisterRelayed']): RegistrationStore {
  return {
    register: async (...args) => memory.register(...args),
    unregister: async (...args) => memory.unregister(...args),
    discover: async (...args) => memory.discover(...args),
    namespaceStats: async (...args) => memory.namespaceStats(...args),
    prune: async (...args) => memory.prune(...args),
    ...(unregisterRelayed != null ? { unregisterRelayed } : {})
  }
}

async function browserShapedClient (point: PointNode): Promise<Libp2p<{ rendezvous: ReturnType<ReturnType<typeof rendezvousClient>> }>> {
  return browserShaped(point.address, { rendezvous: rendezvousClient() })
}

describe('a point drops the registrations of a peer nobody can reach any more', () => {
  it('a browser-shaped peer killed with SIGKILL, without a word, is gone from DISCOVER', async () => {
    const point = await createPoint({}, 'ws')
    const peer = startCli([point.address.toString(), 'vanishing'], 'test/point/browser-shaped-peer.ts')
    const { peerId } = JSON.parse(await peer.line(line => line.includes('"registered"')))

    const { client } = await createClient({}, 'ws')
    const [registration] = (await client.discover(point.address, 'vanishing')).registrations
    expect(registration.peerId.toString()).toBe(peerId)
    // the SDK's own record: reachable only through the point's relay
    expect(registration.multiaddrs.map(String)).toEqual([`${point.address.toString()}/p2p-circuit`])

    expect((await peer.stop('SIGKILL')).signal).toBe('SIGKILL')
    await vi.waitFor(async () => { expect(await listed(point, 'vanishing')).toEqual([]) }, LEAVING)
  })

  it('keeps what a peer registered with an address of its own, and drops what only the point\'s relay could reach', async () => {
    const point = await createPoint({}, 'ws')
    const key = await newKey()
    const { node, client } = await createClient({}, 'ws', key)
    const id = node.peerId.toString()
    // its own record: the WebSocket address it listens on
    await client.register(point.address, 'direct', { ttl: 300 })
    await registerRecord(node, key, point, 'relayed', [`${point.address.toString()}/p2p-circuit`])
    expect([await listed(point, 'direct'), await listed(point, 'relayed')]).toEqual([[id], [id]])

    await node.hangUp(point.node.peerId)
    // one departure drops both or neither, so once one is gone the other has been decided
    await vi.waitFor(async () => { expect(await listed(point, 'relayed')).toEqual([]) }, LEAVING)
    expect(await listed(point, 'direct')).toEqual([id])
  })

  it('a peer with several connections keeps its registrations until the last one closes', async () => {
    const point = await createPoint({}, 'ws')
    const peer = await browserShapedClient(point)
    await peer.services.rendezvous.register(point.address, 'several', { ttl: 300 })
    const second = await peer.dial(point.address, { force: true })
    await vi.waitFor(() => { expect(point.node.getConnections(peer.peerId)).toHaveLength(2) }, LEAVING)

    const [first] = peer.getConnections(point.node.peerId).filter(c => c.id !== second.id)
    await first.close()
    await vi.waitFor(() => { expect(point.node.getConnections(peer.peerId)).toHaveLength(1) }, LEAVING)
    expect(await listed(point, 'several')).toEqual([peer.peerId.toString()])

    await second.close()
    await vi.waitFor(async () => { expect(await listed(point, 'several')).toEqual([]) }, LEAVING)
  })

  const keepers: Array<[string, () => RendezvousServerInit]> = [
    ['with dropOnDisconnect: false', () => ({ dropOnDisconnect: false })],
    ['with a store that cannot unregister by relay', () => ({ store: storeOver(new MemoryRegistrationStore()) })]
  ]
  for (const [name, init] of keepers) {
    it(`${name}, keeps them until they expire`, async () => {
      const point = await createPoint(init(), 'ws')
      const peer = await browserShapedClient(point)
      await peer.services.rendezvous.register(point.address, 'kept', { ttl: 300 })
      await peer.stop()
      await vi.waitFor(() => { expect(point.node.getConnections(peer.peerId)).toHaveLength(0) }, LEAVING)
      expect(await listed(point, 'kept')).toEqual([peer.peerId.toString()])
    })
  }

  it('a peer back on a new connection while its drop is still under way keeps what it registers then', async () => {
    // the memory store drops at once; this one holds the drop back, as a store that serves requests
    // concurrently (a connection pool, say) may, so that the REGISTER arrives while it is under way
    const memory = new MemoryRegistrationStore()
    let release = (): void => {}
    const held = new Promise<void>(resolve => { release = resolve })
    let dropping = false
    const store = storeOver(memory, async (...args) => {
      dropping = true
      await held
      return memory.unregisterRelayed(...args)
    })
    const point = await createPoint({ store }, 'ws')
    const key = await newKey()
    const { node } = await createClient({}, 'ws', key)
    const throughPoint = [`${point.address.toString()}/p2p-circuit`]
    await registerRecord(node, key, point, 'back', throughPoint)
    await registerRecord(node, key, point, 'not-back', throughPoint)

    await node.hangUp(point.node.peerId)
    await vi.waitFor(() => { expect(dropping).toBe(true) }, LEAVING)
    const again = registerRecord(node, key, point, 'back', throughPoint, 2n)
    await vi.waitFor(() => {
      expect(point.node.getConnections(node.peerId).flatMap(c => c.streams).some(s => s.protocol === RENDEZVOUS_PROTOCOL)).toBe(true)
    }, LEAVING)
    // a few requests through the point, time enough for a REGISTER nothing held back to reach the store
    for (let i = 0; i < 3; i++) await listed(point, 'back')
    release()
    await again

    expect(await listed(point, 'not-back')).toEqual([])
    expect(await listed(point, 'back')).toEqual([node.peerId.toString()])
  })
})
