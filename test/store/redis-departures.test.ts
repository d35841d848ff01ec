/**
 * Peers that vanish leave, with a fleet of points on one Redis: only the
 * point a peer was connected to drops, only what is relayed through that
 * point goes, and a peer that registered again (at another point, or at the
 * same one on a new connection) keeps what it registered, whatever the order
 * in which the events reach the store. Orderings that timing alone would
 * rarely produce are forced by pausing Redis's writes (CLIENT PAUSE), which
 * holds every point's commands in Redis, in the order they were sent.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { RENDEZVOUS_PROTOCOL } from '../../src/constants.ts'
import { parseRegisterResponse, registerRequest } from '../../src/protocol/messages.ts'
import { RedisRegistrationStore } from '../../src/server/store/redis-store.ts'
import { createClient, createPoint, stopNodes } from '../fixtures/nodes.ts'
import { newKey, signRecord } from '../fixtures/records.ts'
import { rawSession } from '../fixtures/session.ts'
import { startRedis } from './redis-server.ts'
import type { PointNode } from '../fixtures/nodes.ts'
import type { RedisServer } from './redis-server.ts'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { Redis } from 'ioredis'

/** How long to keep looking for an effect: generous for a busy machine, and never a measurement */
const EVENTUALLY = { timeout: 30_000, interval: 50 }

let redis: RedisServer
let admin: Redis
const stores: RedisRegistrationStore[] = []
let fleets = 0

beforeAll(async () => {
  redis = await startRedis()
  admin = await redis.client()
})

afterEach(async () => {
  await admin.call('CLIENT', 'UNPAUSE')
  await stopNodes()
  await Promise.all(stores.splice(0).map(async store => store.close()))
})

afterAll(async () => {
  await redis?.destroy()
})

interface Fleet {
  a: PointNode
  b: PointNode
  fleet: string
}

/** Two points on one Redis fleet */
async function twoPoints (): Promise<Fleet> {
  const fleet = `d${process.pid}-${++fleets}`
  // the tests below hold Redis's writes on purpose; a busy machine may take longer than the 5 s default
  const open = async (): Promise<RedisRegistrationStore> => RedisRegistrationStore.open({ url: redis.url, fleet, commandTimeout: 30_000 })
  stores.push(await open(), await open())
  return { a: await createPoint({ store: stores.at(-2) }), b: await createPoint({ store: stores.at(-1) }), fleet }
}

interface Peer {
  node: Libp2p
  key: PrivateKey
  id: string
}

async function peer (): Promise<Peer> {
  const key = await newKey()
  const { node } = await createClient({}, 'tcp', key)
  return { node, key, id: node.peerId.toString() }
}

/** REGISTER at `at` a record of `who` whose one address is a relay path through `via` */
async function registerVia (who: Peer, at: PointNode, namespace: string, via: PointNode, seq: bigint): Promise<void> {
  const record = await signRecord(who.key, { multiaddrs: [`${via.address.toString()}/p2p-circuit`], seq })
  const session = rawSession(await who.node.dialProtocol(at.address, RENDEZVOUS_PROTOCOL))
  try {
    expect(parseRegisterResponse(await session.request(registerRequest(namespace, record, 300)))).toBe(300)
  } finally {
    await session.close()
  }
}

/** Who a fresh client finds in `namespace` at `point`, with the relay of each one's record */
async function listed (point: PointNode, namespace: string): Promise<string[]> {
  const { client } = await createClient()
  const { registrations } = await client.discover(point.address, namespace)
  return registrations.map(r => `${r.peerId.toString()} via ${r.multiaddrs.map(String).join(' ')}`)
}

function via (who: Peer, point: PointNode): string {
  return `${who.id} via ${point.address.toString()}/p2p-circuit`
}

/** The commands Redis holds (paused) for its clients: a point's drop shows as a script, a REGISTER as the record's `set` */
async function held (): Promise<string[]> {
  const clients = String(await admin.call('CLIENT', 'LIST')).split('\n')
  return clients.filter(line => /\bflags=\S*b/.test(line)).map(line => /\bcmd=(\S+)/.exec(line)?.[1] ?? '')
}

describe('a Redis fleet drops the registrations of a peer that left', () => {
  it('a peer that moved to another point and registered there before the first point saw it leave keeps that registration', async () => {
    const { a, b } = await twoPoints()
    const p = await peer()
    await registerVia(p, a, 'moved', a, 1n)
    await registerVia(p, a, 'left-behind', a, 1n)
    // through B now, registered at B, while A still holds the old connection
    await registerVia(p, b, 'moved', b, 2n)

    await p.node.hangUp(a.node.peerId)
    // A's drop is one step: once what stayed behind is gone, it has run
    await vi.waitFor(async () => { expect(await listed(b, 'left-behind')).toEqual([]) }, EVENTUALLY)
    expect(await listed(a, 'moved')).toEqual([via(p, b)])
  })

  it('only the point the peer left drops, and only what goes through that point, wherever it was registered', async () => {
    const { a, b } = await twoPoints()
    const p = await peer()
    await registerVia(p, b, 'through-a', a, 1n)
    await registerVia(p, a, 'through-b', b, 1n)

    await p.node.hangUp(b.node.peerId)
    await vi.waitFor(async () => { expect(await listed(a, 'through-b')).toEqual([]) }, EVENTUALLY)
    // still connected to A, so still reachable through it
    expect(await listed(b, 'through-a')).toEqual([via(p, a)])

    await p.node.hangUp(a.node.peerId)
    await vi.waitFor(async () => { expect(await listed(b, 'through-a')).toEqual([]) }, EVENTUALLY)
  })

  it('a peer back on a new connection, registering again while the drop for its old connection is still under way, stays registered', async () => {
    const { a } = await twoPoints()
    const p = await peer()
    await registerVia(p, a, 'back', a, 1n)
    await registerVia(p, a, 'not-back', a, 1n)

    await admin.call('CLIENT', 'PAUSE', '60000', 'WRITE')
    let again: Promise<void>
    try {
      await p.node.hangUp(a.node.peerId)
      // A saw it leave, and its drop waits in Redis
      await vi.waitFor(async () => { expect((await held()).filter(cmd => cmd.startsWith('eval'))).toHaveLength(1) }, EVENTUALLY)
      again = registerVia(p, a, 'back', a, 2n)
      // the REGISTER has reached A, on a new connection
      await vi.waitFor(() => {
        expect(a.node.getConnections(p.node.peerId).flatMap(c => c.streams).some(s => s.protocol === RENDEZVOUS_PROTOCOL)).toBe(true)
      }, EVENTUALLY)
    } finally {
      await admin.call('CLIENT', 'UNPAUSE')
    }
    await again

    expect(await listed(a, 'not-back')).toEqual([])
    expect(await listed(a, 'back')).toEqual([via(p, a)])
  })

  it('a REGISTER that reaches the store after the drop (sent just before the connection closed) is dropped too', async () => {
    const { a, fleet } = await twoPoints()
    const p = await peer()
    await registerVia(p, a, 'earlier', a, 1n)
    const cursorKey = `{${fleet}}:cursor`

    await admin.call('CLIENT', 'PAUSE', '60000', 'WRITE')
    let cursor: string | null
    try {
      // never answered: the connection goes while A waits for Redis
      void registerVia(p, a, 'late', a, 1n).catch(() => {})
      await vi.waitFor(async () => { expect(await held()).toEqual(['set']) }, EVENTUALLY)
      cursor = await admin.get(cursorKey)
      for (const connection of p.node.getConnections(a.node.peerId)) connection.abort(new Error('gone'))
      await vi.waitFor(() => { expect(a.node.getConnections(p.node.peerId)).toEqual([]) }, EVENTUALLY)
    } finally {
      await admin.call('CLIENT', 'UNPAUSE')
    }

    // the late registration was written after the drop had run...
    await vi.waitFor(async () => { expect(BigInt(await admin.get(cursorKey) ?? 0)).toBeGreaterThan(BigInt(cursor ?? 0)) }, EVENTUALLY)
    // ...and a drop after it took it away
    await vi.waitFor(async () => { expect([await listed(a, 'late'), await listed(a, 'earlier')]).toEqual([[], []]) }, EVENTUALLY)
  })
})
