import { afterAll, afterEach, beforeAll, describe, it, expect } from 'vitest'
import { MAX_DISCOVER_LIMIT } from '../../src/constants.ts'
import { Message } from '../../src/protocol/messages.ts'
import { CARRIERS, registerMany, startPoint, stopPoints } from '../fixtures/harness.ts'
import { manualClock } from '../fixtures/clock.ts'
import type { Registration } from '../../src/client/api.ts'
import type { TestPeer, TestPoint } from '../fixtures/harness.ts'

const minutes = 60_000

function keys (registrations: Registration[]): string[] {
  return registrations.map(r => `${r.peerId}/${r.namespace}`)
}

/**
 * DISCOVER page after page, each with the cookie of the one before, until an
 * empty page; a point that never runs dry fails after `maxPages` instead of
 * keeping the test busy forever.
 */
async function pageByHand (asker: TestPeer, point: TestPoint, namespace: string | undefined, limit?: number, maxPages = 10): Promise<Registration[][]> {
  const pages: Registration[][] = []
  let cookie: Uint8Array | undefined
  while (pages.length < maxPages) {
    const page = await asker.client.discover(point.target, namespace, { limit, cookie })
    pages.push(page.registrations)
    if (page.registrations.length === 0) return pages
    cookie = page.cookie
  }
  throw new Error(`no empty page after ${maxPages} pages`)
}

async function collect<T> (source: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = []
  for await (const item of source) all.push(item)
  return all
}

describe.each(CARRIERS)('DISCOVER over %s', (carrier) => {
  describe('answers', () => {
    afterEach(stopPoints)

    async function threePeersInTwoNamespaces (point: TestPoint): Promise<TestPeer[]> {
      const [alice, bob, carol] = [await point.peer(), await point.peer(), await point.peer()]
      await alice.client.register(point.target, 'a', { ttl: 300 })
      await bob.client.register(point.target, 'b', { ttl: 300 })
      await carol.client.register(point.target, 'a', { ttl: 300 })
      await carol.client.register(point.target, 'b', { ttl: 300 })
      return [alice, bob, carol]
    }

    it('given registrations in two namespaces, when one is asked for, then only its registrations come back, oldest first', async () => {
      const point = await startPoint(carrier)
      const [alice, , carol] = await threePeersInTwoNamespaces(point)
      const { registrations } = await alice.client.discover(point.target, 'a')
      expect(keys(registrations)).toEqual([`${alice.peerId}/a`, `${carol.peerId}/a`])
    })

    it('given registrations in two namespaces, when no namespace is named, then all come back with their namespaces', async () => {
      const point = await startPoint(carrier)
      const [alice, bob, carol] = await threePeersInTwoNamespaces(point)
      const { registrations } = await alice.client.discover(point.target)
      expect(keys(registrations)).toEqual([`${alice.peerId}/a`, `${bob.peerId}/b`, `${carol.peerId}/a`, `${carol.peerId}/b`])
    })

    it('given a DISCOVER with ns "", as go sends it, then it is the same as asking for all namespaces', async () => {
      const point = await startPoint(carrier)
      const [alice] = await threePeersInTwoNamespaces(point)
      const raw = await alice.session()
      const goStyle = await raw.request({ type: Message.MessageType.DISCOVER, discover: { ns: '' } })
      const absent = await raw.request({ type: Message.MessageType.DISCOVER, discover: {} })
      expect(goStyle.discoverResponse?.status).toBe(Message.ResponseStatus.OK)
      expect(goStyle.discoverResponse?.registrations.map(r => r.ns)).toEqual(['a', 'b', 'a', 'b'])
      expect(goStyle.discoverResponse?.registrations).toEqual(absent.discoverResponse?.registrations)
    })

    it('given a namespace nobody registered in, then the answer is an empty page with a cookie, not an error', async () => {
      const point = await startPoint(carrier)
      const alice = await point.peer()
      const page = await alice.client.discover(point.target, 'nobody-here')
      expect(page.registrations).toEqual([])
      expect(page.cookie?.byteLength).toBeGreaterThan(0)
    })

    it.each([
      ['256 ASCII bytes', 'a'.repeat(256)],
      ['256 bytes in 128 characters', 'é'.repeat(128)]
    ])('given a namespace of %s, then it is refused with E_INVALID_NAMESPACE', async (_, namespace) => {
      const point = await startPoint(carrier)
      const alice = await point.peer()
      await expect(alice.client.discover(point.target, namespace)).rejects.toMatchObject({ name: 'InvalidNamespaceError', status: 'E_INVALID_NAMESPACE' })
    })

    it('given a registration, then its record comes back byte for byte, with the registering peer\'s addresses', async () => {
      const point = await startPoint(carrier)
      const alice = await point.peer()
      const bob = await point.peer()
      await alice.client.register(point.target, 'app', { ttl: 300 })
      const [found] = (await bob.client.discover(point.target, 'app')).registrations
      expect(found.signedPeerRecord).toEqual(await alice.client.ownRecord.seal())
      expect(found.multiaddrs.map(String)).toEqual(alice.client.ownRecord.addresses().map(String))
      expect(found.seq).toBe(alice.client.ownRecord.seq)
    })

    it('given time has passed, then the ttl returned is the time remaining, rounded up', async () => {
      const clock = manualClock()
      const point = await startPoint(carrier, { now: clock.now })
      const alice = await point.peer()
      await alice.client.register(point.target, 'app', { ttl: 300 })
      const ttl = async (): Promise<number[]> => (await alice.client.discover(point.target, 'app')).registrations.map(r => r.ttl)

      expect(await ttl()).toEqual([300])
      clock.advance(2 * minutes)
      expect(await ttl()).toEqual([180])
      clock.advance(30_500)
      expect(await ttl()).toEqual([150])
      // half a second left is still alive, so it must not read as 0
      clock.advance(149_000)
      expect(await ttl()).toEqual([1])
    })

    it('given a registration expires, then it vanishes from every answer at once, before any sweep', async () => {
      const clock = manualClock()
      const point = await startPoint(carrier, { now: clock.now, gcInterval: 24 * 60 * minutes })
      const alice = await point.peer()
      const bob = await point.peer()
      await alice.client.register(point.target, 'app', { ttl: 300 })
      await bob.client.register(point.target, 'app', { ttl: 600 })

      clock.advance(5 * minutes)
      expect(keys((await alice.client.discover(point.target, 'app')).registrations)).toEqual([`${bob.peerId}/app`])
      expect(keys((await alice.client.discover(point.target)).registrations)).toEqual([`${bob.peerId}/app`])
      expect(await point.server.getNamespaceStats()).toEqual(new Map([['app', 1]]))
    })

    it('given a point with a lower cap, then no page exceeds it', async () => {
      const point = await startPoint(carrier, { maxDiscoverLimit: 3 })
      const alice = await point.peer()
      await registerMany(alice, ['a', 'b', 'c', 'd', 'e'])
      expect((await alice.client.discover(point.target)).registrations).toHaveLength(3)
      expect((await alice.client.discover(point.target, undefined, { limit: 100 })).registrations).toHaveLength(3)
      expect(await collect(alice.client.discoverAll(point.target, undefined, { pageSize: 100 }))).toHaveLength(5)
    })

    it('given registrations in one namespace, when paged with a small limit, then each comes back exactly once, in order', async () => {
      const point = await startPoint(carrier)
      const peers: TestPeer[] = []
      for (let i = 0; i < 12; i++) {
        const peer = await point.peer()
        await peer.client.register(point.target, 'app', { ttl: 300 })
        peers.push(peer)
      }
      const pages = await pageByHand(peers[0], point, 'app', 5)
      expect(pages.map(page => page.length)).toEqual([5, 5, 2, 0])
      expect(pages.flat().map(r => r.peerId.toString())).toEqual(peers.map(p => p.peerId.toString()))
    })
  })

  describe('2,500 registrations', () => {
    const total = 2500
    let point: TestPoint
    let reader: TestPeer
    let expected: string[]

    // thousands of signed registrations take a while on a busy machine; nothing here is timed
    beforeAll(async () => {
      point = await startPoint(carrier)
      const registrants = [await point.peer(), await point.peer(), await point.peer(), await point.peer(), await point.peer()]
      const namespacesOf = registrants.map((_, p) => Array.from({ length: total / registrants.length }, (_, i) => `ns-${p}-${i}`))
      await Promise.all(registrants.map(async (peer, p) => registerMany(peer, namespacesOf[p], 600)))
      expected = registrants.flatMap((peer, p) => namespacesOf[p].map(ns => `${peer.peerId}/${ns}`))
      reader = await point.peer()
    }, 120_000)
    afterAll(stopPoints)

    it('when paged through with cookies, then every registration comes back exactly once', async () => {
      const seen = keys(await collect(reader.client.discoverAll(point.target)))
      expect(seen).toHaveLength(total)
      expect(new Set(seen).size).toBe(total)
      expect(seen.sort()).toEqual([...expected].sort())
    })

    it('when paged by hand, then the pages are full until the last and an empty page ends it', async () => {
      const pages = await pageByHand(reader, point, undefined)
      expect(pages.map(page => page.length)).toEqual([1000, 1000, 500, 0])
    })

    it.each([
      { given: 'no limit', limit: undefined, size: MAX_DISCOVER_LIMIT },
      { given: 'a limit above the cap', limit: 5000, size: MAX_DISCOVER_LIMIT },
      { given: 'a limit of 7', limit: 7, size: 7 }
    ])('given $given, then the page holds $size registrations, the lesser of the limit and the cap', async ({ limit, size }) => {
      const { registrations } = await reader.client.discover(point.target, undefined, { limit })
      expect(registrations).toHaveLength(size)
    })

    it('given limit 0 on the wire, then it means "no preference" and the page is capped at 1000', async () => {
      const raw = await reader.session()
      const response = await raw.request({ type: Message.MessageType.DISCOVER, discover: { limit: 0n } })
      expect(response.discoverResponse?.registrations).toHaveLength(MAX_DISCOVER_LIMIT)
    })
  })
})
