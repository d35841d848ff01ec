/**
 * The Redis store against a real redis-server this file starts: the shared
 * store suite, then what only a shared store has to do — several points as
 * one, writers racing, keys expiring in Redis, Redis going away and back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openStore } from '../../src/server/store/from-url.ts'
import { RedisRegistrationStore } from '../../src/server/store/redis-store.ts'
import { StoreUnavailableError } from '../../src/server/store/registration-store.ts'
import { createClient, createPoint, stopNodes } from '../fixtures/nodes.ts'
import { describeRegistrationStore } from './registration-store.suite.ts'
import { freePort, startRedis } from './redis-server.ts'
import type { RedisStoreInit } from '../../src/server/store/redis-store.ts'
import type { NewRegistration, RegistrationLimits } from '../../src/server/store/registration-store.ts'
import type { RedisServer } from './redis-server.ts'
import type { Redis } from 'ioredis'

let redis: RedisServer
const opened: RedisRegistrationStore[] = []
let fleets = 0

/** A fleet name no other test uses, so tests share one Redis without seeing each other */
function freshFleet (): string {
  return `t${process.pid}-${++fleets}`
}

async function open (init: RedisStoreInit = {}): Promise<RedisRegistrationStore> {
  const store = await RedisRegistrationStore.open({ url: redis.url, fleet: freshFleet(), ...init })
  opened.push(store)
  return store
}

beforeAll(async () => {
  redis = await startRedis()
})

afterEach(async () => {
  await stopNodes()
  await Promise.all(opened.splice(0).map(async store => store.close()))
})

afterAll(async () => {
  await redis?.destroy()
})

describeRegistrationStore('RedisRegistrationStore', async () => {
  const store = await RedisRegistrationStore.open({ url: redis.url, fleet: freshFleet() })
  return { store, close: async () => store.close() }
})

const T0 = 1_700_000_000_000
const MINUTE = 60_000
const ROOMY: RegistrationLimits = { maxPerPeer: 1000, maxTotal: 100_000 }

function registration (peerId: string, namespace: string, seq = 1n, expiresAt = T0 + 10 * MINUTE): NewRegistration {
  return { peerId, namespace, signedPeerRecord: new TextEncoder().encode(`${peerId}/${namespace}/${seq}`), seq, expiresAt }
}

/** Every key of a fleet: its index and its records */
async function keysOf (client: Redis, fleet: string): Promise<string[]> {
  const index = await client.keys(`{${fleet}}:*`)
  const records = await client.keys(`{${fleet}:*`)
  return [...index, ...records].sort()
}

/** Retry `fn` until it stops throwing; the test's own timeout bounds the wait */
async function eventually<T> (fn: () => Promise<T>): Promise<T> {
  while (true) {
    try {
      return await fn()
    } catch {
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }
}

describe('RedisRegistrationStore: several stores on one Redis', () => {
  it('what one store registers another discovers, and unregistering through the other removes it everywhere', async () => {
    const a = await open()
    const b = await open({ fleet: a.fleet })

    await a.register(registration('peer-1', 'chat'), ROOMY, T0)
    await b.register(registration('peer-2', 'chat'), ROOMY, T0)
    expect((await b.discover('chat', 0n, 10, T0)).registrations.map(r => r.peerId)).toEqual(['peer-1', 'peer-2'])

    expect(await b.unregister('peer-1', undefined, T0)).toBe(1)
    expect((await a.discover(undefined, 0n, 10, T0)).registrations.map(r => r.peerId)).toEqual(['peer-2'])
    expect(await a.namespaceStats(T0)).toEqual(new Map([['chat', 1]]))
  })

  it('keeps fleets with different names apart, each with its own cookie secret', async () => {
    const a = await open()
    const sameFleet = await open({ fleet: a.fleet })
    const other = await open()

    await a.register(registration('peer-1', 'chat'), ROOMY, T0)
    expect((await other.discover('chat', 0n, 10, T0)).registrations).toEqual([])
    expect(Array.from(sameFleet.cookieSecret)).toEqual(Array.from(a.cookieSecret))
    expect(Array.from(other.cookieSecret)).not.toEqual(Array.from(a.cookieSecret))
    expect(a.cookieSecret.byteLength).toBe(32)
  })

  it('concurrent writers at the total limit: exactly the limit is accepted, fleet-wide', async () => {
    const a = await open()
    const b = await open({ fleet: a.fleet })
    const limits = { maxPerPeer: 10, maxTotal: 40 }

    const outcomes = await Promise.all(Array.from({ length: 120 }, async (_, i) =>
      (i % 2 === 0 ? a : b).register(registration(`peer-${i}`, `ns-${i % 3}`), limits, T0)
    ))
    expect(outcomes.filter(o => o.ok)).toHaveLength(40)
    expect(outcomes.filter(o => !o.ok && o.reason === 'total-limit')).toHaveLength(80)
    const found = (await a.discover(undefined, 0n, 1000, T0)).registrations
    expect(new Set(found.map(r => r.peerId)).size).toBe(40)
  })

  it('concurrent writers at the per-peer limit: exactly the limit is accepted', async () => {
    const a = await open()
    const b = await open({ fleet: a.fleet })
    const limits = { maxPerPeer: 7, maxTotal: 1000 }

    const outcomes = await Promise.all(Array.from({ length: 30 }, async (_, i) =>
      (i % 2 === 0 ? a : b).register(registration('peer-1', `ns-${i}`), limits, T0)
    ))
    expect(outcomes.filter(o => o.ok)).toHaveLength(7)
    expect(outcomes.filter(o => !o.ok && o.reason === 'peer-limit')).toHaveLength(23)
    expect((await b.discover(undefined, 0n, 1000, T0)).registrations).toHaveLength(7)
  })

  it('concurrent re-registrations neither lose nor double a registration, nor leave records behind', async () => {
    const a = await open()
    const b = await open({ fleet: a.fleet })
    const client = await redis.client()

    await Promise.all([
      ...Array.from({ length: 60 }, async (_, i) => (i % 2 === 0 ? a : b).register(registration('busy', 'chat', BigInt(i + 1)), ROOMY, T0)),
      ...Array.from({ length: 40 }, async (_, i) => (i % 2 === 0 ? b : a).register(registration(`quiet-${i}`, 'chat'), ROOMY, T0))
    ])

    const found = (await a.discover('chat', 0n, 1000, T0)).registrations
    expect(found).toHaveLength(41)
    expect(new Set(found.map(r => r.peerId)).size).toBe(41)
    expect(new Set(found.map(r => r.cursor)).size).toBe(41)
    // whatever the interleaving, the newest record wins: nothing can replace it, it replaces everything
    expect(found.find(r => r.peerId === 'busy')?.seq).toBe(60n)
    // one record key per registration: replaced and refused records were deleted
    expect((await client.keys(`{${a.fleet}:*`))).toHaveLength(41)
  })

  it('pages a namespace through two stores, with writes through both in between: every registration exactly once', async () => {
    const a = await open()
    const b = await open({ fleet: a.fleet })
    for (let i = 0; i < 20; i++) await (i % 2 === 0 ? a : b).register(registration(`peer-${i}`, 'big'), ROOMY, T0)

    const seen: string[] = []
    let cursor = 0n
    for (let page = 0; ; page++) {
      const reader = page % 2 === 0 ? a : b
      const writer = page % 2 === 0 ? b : a
      const result = await reader.discover('big', cursor, 3, T0)
      if (result.registrations.length === 0) break
      seen.push(...result.registrations.map(r => r.peerId))
      cursor = result.cursor
      if (page < 3) await writer.register(registration(`late-${page}`, 'big'), ROOMY, T0)
    }
    const expected = [...Array.from({ length: 20 }, (_, i) => `peer-${i}`), 'late-0', 'late-1', 'late-2']
    expect(seen.sort()).toEqual(expected.sort())
  })
})

describe('RedisRegistrationStore: cost', () => {
  /** How often Redis ran `command` since the last reset, from its own statistics */
  async function calls (client: Redis, command: string): Promise<number> {
    const stats = await client.info('commandstats')
    return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0)
  }

  it('reads about as many entries as a page returns, however large the namespace', async () => {
    const store = await open()
    const client = await redis.client()
    for (let i = 0; i < 600; i++) await store.register(registration(`peer-${i}`, 'crowded'), ROOMY, T0)
    const first = await store.discover('crowded', 0n, 300, T0)

    await client.config('RESETSTAT')
    const page = await store.discover('crowded', first.cursor, 10, T0)
    expect(page.registrations).toHaveLength(10)
    // one index lookup per entry returned, one range read, one MGET of 10 records
    expect(await calls(client, 'hget')).toBe(10)
    expect(await calls(client, 'zrangebyscore')).toBe(1)
    expect(await calls(client, 'mget')).toBe(1)
  })

  it('unregisters by relay reading only the departing peer\'s own entries, however full the store', async () => {
    const store = await open()
    const client = await redis.client()
    for (let i = 0; i < 600; i++) await store.register({ ...registration(`peer-${i}`, `ns-${i % 7}`), relayedVia: 'relay-1' }, ROOMY, T0)
    for (const namespace of ['one', 'two', 'three']) await store.register({ ...registration('leaving', namespace), relayedVia: 'relay-1' }, ROOMY, T0)

    await client.config('RESETSTAT')
    expect(await store.unregisterRelayed('leaving', 'relay-1', T0)).toBe(3)
    // one read of the peer's hash; nothing that walks a sorted set or the key space
    expect(await calls(client, 'hgetall')).toBe(1)
    for (const walk of ['zrange', 'zrangebyscore', 'zscan', 'scan', 'keys', 'hscan']) expect(await calls(client, walk), walk).toBe(0)
    expect((await store.discover(undefined, 0n, 1000, T0)).registrations).toHaveLength(600)
  })
})

describe('RedisRegistrationStore: registrations written before the relay was kept', () => {
  it('reads them as not relayed: discovered as before, left alone by a departure, removed by UNREGISTER', async () => {
    const store = await open()
    const client = await redis.client()
    await store.register({ ...registration('older', 'chat'), relayedVia: 'relay-1' }, ROOMY, T0)
    // the value as points wrote it before: cursor|seq|expiresAt|record id, without the relay's mark
    const key = `{${store.fleet}}:peer:older`
    const value = String(await client.hget(key, 'chat'))
    expect(value).toMatch(/\|r=relay-1$/)
    await client.hset(key, 'chat', value.replace(/\|r=relay-1$/, ''))
    expect(String(await client.hget(key, 'chat')).split('|')).toHaveLength(4)

    const [found] = (await store.discover('chat', 0n, 10, T0)).registrations
    expect([found.peerId, found.relayedVia]).toEqual(['older', undefined])
    expect(await store.unregisterRelayed('older', 'relay-1', T0)).toBe(0)
    expect(await store.unregister('older', 'chat', T0)).toBe(1)
    expect((await store.discover('chat', 0n, 10, T0)).registrations).toEqual([])
  })
})

describe('RedisRegistrationStore: expiry in Redis itself', () => {
  it('gives every index and record key a TTL, so Redis clears a fleet with no process alive', async () => {
    const store = await open()
    const fleet = store.fleet
    const client = await redis.client()
    const now = Date.now()
    // Redis's own clock runs these down; 1.5 s is the shortest that leaves time to look first
    await store.register(registration('peer-1', 'chat', 1n, now + 1500), ROOMY, now)
    await store.register(registration('peer-1', 'games', 1n, now + 1500), ROOMY, now)
    await store.register(registration('peer-2', 'chat', 1n, now + 1500), ROOMY, now)
    await store.close()

    const permanent = [`{${fleet}}:cursor`, `{${fleet}}:secret`]
    const keys = await keysOf(client, fleet)
    expect(keys.length).toBeGreaterThan(permanent.length)
    for (const key of keys) {
      const ttl = await client.pttl(key)
      if (permanent.includes(key)) expect(ttl, key).toBe(-1)
      else expect(ttl, key).toBeGreaterThan(0)
    }

    // nobody serves this fleet any more: only Redis can remove the keys
    await eventually(async () => {
      expect(await keysOf(client, fleet)).toEqual([...permanent].sort())
    })
  })
})

describe('RedisRegistrationStore: when Redis goes away', () => {
  let own: RedisServer | undefined

  afterEach(async () => {
    await stopNodes()
    await own?.destroy()
    own = undefined
  })

  it('reports StoreUnavailableError while Redis is down, and serves again once it is back', async () => {
    own = await startRedis()
    const server = own
    const store = await RedisRegistrationStore.open({ url: server.url, fleet: freshFleet(), maxReconnectDelay: 200 })
    opened.push(store)
    await store.register(registration('peer-1', 'chat'), ROOMY, T0)
    const before = await store.discover('chat', 0n, 10, T0)

    await server.stop()
    await expect(store.register(registration('peer-2', 'chat'), ROOMY, T0)).rejects.toBeInstanceOf(StoreUnavailableError)
    await expect(store.discover('chat', 0n, 10, T0)).rejects.toBeInstanceOf(StoreUnavailableError)
    await expect(store.unregister('peer-1', undefined, T0)).rejects.toBeInstanceOf(StoreUnavailableError)
    await expect(store.namespaceStats(T0)).rejects.toBeInstanceOf(StoreUnavailableError)
    await expect(store.prune(T0)).rejects.toBeInstanceOf(StoreUnavailableError)

    await server.start()
    // the new Redis is empty (no persistence): the store reconnects on its own and carries on
    await eventually(async () => store.discover('chat', 0n, 10, T0))
    expect(await store.register(registration('peer-2', 'chat'), ROOMY, T0)).toEqual({ ok: true })

    // a cursor handed out before the restart still means "what came after": the counter restarts above it
    const after = await store.discover('chat', before.cursor, 10, T0)
    expect(after.registrations.map(r => r.peerId)).toEqual(['peer-2'])
    // and the fleet's cookie secret is put back
    const client = await server.client()
    expect(Array.from(await client.getBuffer(`{${store.fleet}}:secret`) ?? [])).toEqual(Array.from(store.cookieSecret))
  })

  it('a point answers E_UNAVAILABLE while its Redis is down, and works again after', async () => {
    own = await startRedis()
    const server = own
    const store = await RedisRegistrationStore.open({ url: server.url, fleet: freshFleet(), maxReconnectDelay: 200 })
    opened.push(store)
    const point = await createPoint({ store })
    const { client } = await createClient()
    expect(await client.register(point.address, 'chat', { ttl: 300 })).toBe(300)

    await server.stop()
    await expect(client.register(point.address, 'chat', { ttl: 300 })).rejects.toMatchObject({ name: 'UnavailableError', status: 'E_UNAVAILABLE' })
    await expect(client.discover(point.address, 'chat')).rejects.toMatchObject({ name: 'UnavailableError' })

    await server.start()
    await eventually(async () => client.register(point.address, 'chat', { ttl: 300 }))
    expect((await client.discover(point.address, 'chat')).registrations).toHaveLength(1)
  })
})

describe('RedisRegistrationStore: two points sharing one Redis', () => {
  it('register at one point, discover at the other; cookies and pages carry over; unregistering anywhere removes it', async () => {
    const storeA = await open()
    const storeB = await open({ fleet: storeA.fleet })
    const pointA = await createPoint({ store: storeA })
    const pointB = await createPoint({ store: storeB })
    const clients = await Promise.all(Array.from({ length: 5 }, async () => createClient()))
    const idOf = (i: number): string => clients[i].node.peerId.toString()

    await clients[0].client.register(pointA.address, 'app', { ttl: 300 })
    await clients[1].client.register(pointB.address, 'app', { ttl: 300 })
    await clients[2].client.register(pointA.address, 'app', { ttl: 300 })

    const atB = await clients[4].client.discover(pointB.address, 'app')
    expect(atB.registrations.map(r => r.peerId.toString())).toEqual([idOf(0), idOf(1), idOf(2)])

    // a cookie from B, used at A: only what is new since
    await clients[3].client.register(pointA.address, 'app', { ttl: 300 })
    const newAtA = await clients[4].client.discover(pointA.address, 'app', { cookie: atB.cookie })
    expect(newAtA.registrations.map(r => r.peerId.toString())).toEqual([idOf(3)])

    // paging, alternating points, with a registration arriving in between: each exactly once
    const seen: string[] = []
    let cookie: Uint8Array | undefined
    for (let page = 0; ; page++) {
      const point = page % 2 === 0 ? pointA : pointB
      const result = await clients[4].client.discover(point.address, 'app', { limit: 2, cookie })
      if (result.registrations.length === 0) break
      seen.push(...result.registrations.map(r => r.peerId.toString()))
      cookie = result.cookie
      if (page === 0) await clients[4].client.register(pointB.address, 'app', { ttl: 300 })
    }
    expect(seen).toEqual([0, 1, 2, 3, 4].map(idOf))

    // unregistering at B removes it at A
    await clients[0].client.unregister(pointB.address, 'app')
    await eventually(async () => {
      const atA = await clients[4].client.discover(pointA.address, 'app')
      expect(atA.registrations.map(r => r.peerId.toString())).toEqual([1, 2, 3, 4].map(idOf))
    })
    expect(await pointA.server.getNamespaceStats()).toEqual(new Map([['app', 4]]))
  })

  it('a point given a secret of its own, not the fleet\'s, refuses the fleet\'s cookies', async () => {
    const store = await open()
    const pointA = await createPoint({ store })
    const stranger = await createPoint({ store, cookieSecret: new Uint8Array(32).fill(7) })
    const { client } = await createClient()
    await client.register(pointA.address, 'app', { ttl: 300 })
    const { cookie } = await client.discover(pointA.address, 'app')
    await expect(client.discover(stranger.address, 'app', { cookie })).rejects.toMatchObject({ name: 'InvalidCookieError' })
  })
})

describe('openStore with a Redis URL', () => {
  it('opens the fleet named in the URL and hands out its shared cookie secret', async () => {
    const fleet = freshFleet()
    const first = await openStore(`${redis.url}/0?fleet=${fleet}`)
    const second = await openStore(`${redis.url}/0?fleet=${fleet}`)
    try {
      expect(first.store.cookieSecret).toBeDefined()
      expect(Array.from(second.store.cookieSecret ?? [])).toEqual(Array.from(first.store.cookieSecret ?? []))
      await first.store.register(registration('peer-1', 'chat'), ROOMY, T0)
      expect((await second.store.discover('chat', 0n, 10, T0)).registrations).toHaveLength(1)
      const client = await redis.client()
      expect(await client.exists(`{${fleet}}:secret`)).toBe(1)
    } finally {
      await first.close()
      await second.close()
    }
  })

  it('uses the database the URL names', async () => {
    const fleet = freshFleet()
    const opened = await openStore(`${redis.url}/3?fleet=${fleet}`)
    try {
      const client = await redis.client()
      await client.select(3)
      expect(await client.exists(`{${fleet}}:secret`)).toBe(1)
      await client.select(0)
      expect(await client.exists(`{${fleet}}:secret`)).toBe(0)
    } finally {
      await opened.close()
    }
  })

  it('refuses with a one-line StoreConnectionError, without the password, when Redis is unreachable', async () => {
    const port = await freePort()
    const error = await openStore(`redis://:hunter2@127.0.0.1:${port}/0`, { connectTimeout: 2000 }).then(() => undefined, (err: Error) => err)
    expect(error?.name).toBe('StoreConnectionError')
    expect(error?.message).toContain(`127.0.0.1:${port}`)
    expect(error?.message).not.toContain('hunter2')
    expect(error?.message).not.toContain('\n')
  })

  it('refuses a database Redis does not have', async () => {
    await expect(openStore(`${redis.url}/99999`)).rejects.toMatchObject({ name: 'StoreConnectionError' })
    await expect(openStore(`${redis.url}/zero`)).rejects.toMatchObject({ name: 'StoreConnectionError' })
  })

  it('still opens memory: by default, and names what it supports otherwise', async () => {
    const memory = await openStore()
    expect(memory.store.cookieSecret).toBeUndefined()
    await memory.close()
    await expect(openStore('mongodb://127.0.0.1')).rejects.toThrow(/redis:\/\//)
  })
})
