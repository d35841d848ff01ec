import { describe, it, expect } from 'vitest'
import { MemoryRegistrationStore } from '../../src/server/store/memory-store.ts'
import type { NewRegistration, RegistrationStore } from '../../src/server/store/registration-store.ts'

const now = 1_000_000
const limits = { maxPerPeer: 1000, maxTotal: 100_000 }

function registration (peerId: string, namespace = 'app', { seq = 1n, ttl = 60_000 } = {}): NewRegistration {
  return { peerId, namespace, signedPeerRecord: new TextEncoder().encode(`${peerId}@${seq}`), seq, expiresAt: now + ttl }
}

async function registerAll (store: RegistrationStore, peers: string[], namespace = 'app'): Promise<void> {
  for (const peer of peers) {
    expect(await store.register(registration(peer, namespace), limits, now)).toEqual({ ok: true })
  }
}

/** More pages than any test here needs: a store that never runs dry fails the test instead of spinning forever */
const MAX_PAGES = 10_000

/** Every page from `after` on, `limit` at a time, until an empty page */
async function pageThrough (store: RegistrationStore, namespace: string | undefined, limit: number, after = 0n): Promise<string[]> {
  const seen: string[] = []
  let cursor = after
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const page = await store.discover(namespace, cursor, limit, now)
    if (page.registrations.length === 0) {
      expect(page.cursor).toBe(cursor)
      return seen
    }
    seen.push(...page.registrations.map(r => r.peerId))
    cursor = page.cursor
  }
  throw new Error('paging never came to an empty page')
}

/** Typed as the interface, which is what the point sees */
const newStore = (): RegistrationStore => new MemoryRegistrationStore()

const peers = (count: number, prefix = 'peer'): string[] => Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`)

describe('MemoryRegistrationStore', () => {
  describe('cursors', () => {
    it('given registrations, then they come back in registration order with strictly growing cursors, per namespace and over all', async () => {
      const store = newStore()
      await store.register(registration('a', 'x'), limits, now)
      await store.register(registration('b', 'y'), limits, now)
      await store.register(registration('c', 'x'), limits, now)

      const all = await store.discover(undefined, 0n, 10, now)
      expect(all.registrations.map(r => `${r.peerId}/${r.namespace}`)).toEqual(['a/x', 'b/y', 'c/x'])
      const cursors = all.registrations.map(r => r.cursor)
      expect(cursors).toEqual([...cursors].sort((l, r) => l < r ? -1 : 1))
      expect(new Set(cursors).size).toBe(3)
      expect(all.cursor).toBe(cursors[2])
      expect((await store.discover('x', 0n, 10, now)).registrations.map(r => r.peerId)).toEqual(['a', 'c'])
    })

    it('given a page after a cursor, then it holds only later registrations and ends at the last one it holds', async () => {
      const store = newStore()
      await registerAll(store, ['a', 'b', 'c', 'd'])
      const first = await store.discover('app', 0n, 2, now)
      const second = await store.discover('app', first.cursor, 2, now)
      expect(second.registrations.map(r => r.peerId)).toEqual(['c', 'd'])
      expect(second.cursor).toBe(second.registrations[1].cursor)
      expect(await store.discover('app', second.cursor, 2, now)).toEqual({ registrations: [], cursor: second.cursor })
    })

    it('given a re-registration, then it takes a fresh cursor: it leaves its old place and comes after everything seen so far', async () => {
      const store = newStore()
      await registerAll(store, ['a', 'b', 'c'])
      const { cursor } = await store.discover('app', 0n, 10, now)
      await store.register(registration('a', 'app', { seq: 2n }), limits, now)

      expect((await store.discover('app', 0n, 10, now)).registrations.map(r => r.peerId)).toEqual(['b', 'c', 'a'])
      const after = await store.discover('app', cursor, 10, now)
      expect(after.registrations.map(r => [r.peerId, r.seq])).toEqual([['a', 2n]])
    })

    it('given expired registrations between live ones, then a page skips them and still fills up to its limit', async () => {
      const store = newStore()
      for (const [i, peer] of peers(10).entries()) {
        await store.register(registration(peer, 'app', { ttl: i % 2 === 0 ? 10 : 60_000 }), limits, now)
      }
      const page = await store.discover('app', 0n, 3, now + 10)
      expect(page.registrations.map(r => r.peerId)).toEqual(['peer-0001', 'peer-0003', 'peer-0005'])
    })

    it('given a record that is a view into a larger frame, as decoding on Node yields, then the store keeps only the record\'s own bytes', async () => {
      const store = newStore()
      // Buffer#slice shares memory, so a copy made with it would pin the whole frame
      const frame = Buffer.alloc(64 * 1024, 7)
      await store.register({ ...registration('a'), signedPeerRecord: frame.subarray(100, 400) }, limits, now)
      const [stored] = (await store.discover('app', 0n, 1, now)).registrations
      expect(stored.signedPeerRecord.byteLength).toBe(300)
      expect(stored.signedPeerRecord.buffer.byteLength).toBe(300)
    })

    it('given the bytes a registration was made from change afterwards, then the stored record does not', async () => {
      const store = newStore()
      const bytes = Uint8Array.from([1, 2, 3])
      await store.register({ ...registration('a'), signedPeerRecord: bytes }, limits, now)
      bytes.fill(0)
      expect((await store.discover('app', 0n, 1, now)).registrations[0].signedPeerRecord).toEqual(Uint8Array.from([1, 2, 3]))
    })
  })

  describe('compaction under many removals', () => {
    it('given nine in ten registrations removed, then paging from the start and from cursors taken before the removals stays exact', async () => {
      const store = newStore()
      const everyone = peers(1000)
      await registerAll(store, everyone)
      const before = (await store.discover('app', 0n, 1000, now)).registrations
      const cursorOf = new Map(before.map(r => [r.peerId, r.cursor]))

      const kept = everyone.filter((_, i) => i % 10 === 0)
      for (const peer of everyone.filter((_, i) => i % 10 !== 0)) {
        expect(await store.unregister(peer, 'app', now)).toBe(1)
      }

      expect(await pageThrough(store, 'app', 7)).toEqual(kept)
      expect(await pageThrough(store, undefined, 7)).toEqual(kept)
      // peer-0505 is gone, so its cursor points into what compaction removed
      const resumeAt = cursorOf.get('peer-0505') ?? 0n
      expect(await pageThrough(store, 'app', 7, resumeAt)).toEqual(kept.filter(p => p > 'peer-0505'))
      expect(await store.namespaceStats(now)).toEqual(new Map([['app', 100]]))
    })

    it('given every registration of a namespace removed, then the namespace is gone and can start again', async () => {
      const store = newStore()
      await registerAll(store, peers(100), 'old')
      await registerAll(store, peers(3), 'other')
      for (const peer of peers(100)) await store.unregister(peer, 'old', now)

      expect(await store.namespaceStats(now)).toEqual(new Map([['other', 3]]))
      expect(await pageThrough(store, 'old', 10)).toEqual([])
      await registerAll(store, ['late'], 'old')
      expect(await pageThrough(store, 'old', 10)).toEqual(['late'])
      expect(await pageThrough(store, undefined, 10)).toEqual([...peers(3), 'late'])
    })

    it('given removals and additions alternating, then the namespace always pages to exactly its live registrations', async () => {
      const store = newStore()
      const live: string[] = []
      for (const [i, peer] of peers(600).entries()) {
        await store.register(registration(peer), limits, now)
        live.push(peer)
        if (i % 3 !== 0) {
          const victim = live.splice(Math.floor(live.length / 2), 1)[0]
          await store.unregister(victim, undefined, now)
        }
        if (i % 50 === 0) expect(await pageThrough(store, 'app', 13)).toEqual(live)
      }
      expect(await pageThrough(store, 'app', 13)).toEqual(live)
    })
  })

  describe('paging with interleaved re-registrations', () => {
    it('given peers re-register while a reader pages through, then nothing is lost, nothing repeats except what was re-registered after being read', async () => {
      const store = newStore()
      const everyone = peers(200)
      await registerAll(store, everyone)

      const seen: string[] = []
      const reRegisteredAfterSeen = new Set<string>()
      const removedUnseen = new Set<string>()
      let cursor = 0n
      let ended = false
      for (let round = 1; round < MAX_PAGES; round++) {
        const page = await store.discover('app', cursor, 10, now)
        if (page.registrations.length === 0) {
          ended = true
          break
        }
        seen.push(...page.registrations.map(r => r.peerId))
        cursor = page.cursor

        const unseen = everyone.filter(p => !seen.includes(p) && !removedUnseen.has(p))
        // one already read re-registers (it must come again), one not yet read re-registers (it must still come once)
        const readOne = seen[(round * 7) % seen.length]
        if (!reRegisteredAfterSeen.has(readOne)) {
          reRegisteredAfterSeen.add(readOne)
          await store.register(registration(readOne, 'app', { seq: 2n }), limits, now)
        }
        if (unseen.length > 2) {
          await store.register(registration(unseen[0], 'app', { seq: 2n }), limits, now)
          removedUnseen.add(unseen[1])
          await store.unregister(unseen[1], 'app', now)
        }
      }

      expect(ended).toBe(true)
      const counts = new Map<string, number>()
      for (const peer of seen) counts.set(peer, (counts.get(peer) ?? 0) + 1)
      for (const peer of everyone) {
        const expected = removedUnseen.has(peer) ? 0 : reRegisteredAfterSeen.has(peer) ? 2 : 1
        expect({ peer, count: counts.get(peer) ?? 0 }).toEqual({ peer, count: expected })
      }
      expect(reRegisteredAfterSeen.size).toBeGreaterThan(10)
      expect(removedUnseen.size).toBeGreaterThan(10)
    })
  })

  describe('sequence numbers', () => {
    it('given an older record for a live registration, then it is refused with the current seq; the same seq replaces', async () => {
      const store = newStore()
      await store.register(registration('a', 'app', { seq: 5n }), limits, now)
      expect(await store.register(registration('a', 'app', { seq: 4n }), limits, now)).toEqual({ ok: false, reason: 'stale-record', currentSeq: 5n })
      expect(await store.register(registration('a', 'app', { seq: 5n, ttl: 120_000 }), limits, now)).toEqual({ ok: true })
      expect((await store.discover('app', 0n, 10, now)).registrations.map(r => r.expiresAt)).toEqual([now + 120_000])
    })

    it('given an older record once the newer one has expired, then it is accepted', async () => {
      const store = newStore()
      await store.register(registration('a', 'app', { seq: 5n, ttl: 10 }), limits, now)
      expect(await store.register(registration('a', 'app', { seq: 4n }), limits, now + 10)).toEqual({ ok: true })
    })

    it('given an older record in another namespace, then it is accepted there', async () => {
      const store = newStore()
      await store.register(registration('a', 'x', { seq: 5n }), limits, now)
      expect(await store.register(registration('a', 'y', { seq: 4n }), limits, now)).toEqual({ ok: true })
    })
  })

  describe('limits', () => {
    it('given a peer at its limit, then a new namespace is refused, unless one of its registrations has expired', async () => {
      const store = newStore()
      const tight = { maxPerPeer: 2, maxTotal: 100 }
      await store.register(registration('a', 'x', { ttl: 10 }), tight, now)
      await store.register(registration('a', 'y'), tight, now)
      expect(await store.register(registration('a', 'z'), tight, now)).toEqual({ ok: false, reason: 'peer-limit' })
      expect(await store.register(registration('a', 'y', { seq: 2n }), tight, now)).toEqual({ ok: true })
      expect(await store.register(registration('a', 'z'), tight, now + 10)).toEqual({ ok: true })
      expect(await store.namespaceStats(now + 10)).toEqual(new Map([['y', 1], ['z', 1]]))
    })

    it('given a full store, then a new registration is refused, unless something has expired', async () => {
      const store = newStore()
      const tight = { maxPerPeer: 10, maxTotal: 2 }
      await store.register(registration('a', 'app', { ttl: 10 }), tight, now)
      await store.register(registration('b'), tight, now)
      expect(await store.register(registration('c'), tight, now)).toEqual({ ok: false, reason: 'total-limit' })
      expect(await store.register(registration('b', 'app', { seq: 2n }), tight, now)).toEqual({ ok: true })
      expect(await store.register(registration('c'), tight, now + 10)).toEqual({ ok: true })
    })
  })

  describe('removal and expiry', () => {
    it('given UNREGISTER without a namespace, then all of that peer\'s registrations go and the count says how many', async () => {
      const store = newStore()
      await registerAll(store, ['a', 'b'], 'x')
      await registerAll(store, ['a'], 'y')
      expect(await store.unregister('a', undefined, now)).toBe(2)
      expect(await store.unregister('a', 'x', now)).toBe(0)
      expect(await store.unregister('nobody', undefined, now)).toBe(0)
      expect(await store.namespaceStats(now)).toEqual(new Map([['x', 1]]))
    })

    it('given expired registrations, then prune forgets exactly those and says how many', async () => {
      const store = newStore()
      await store.register(registration('a', 'x', { ttl: 10 }), limits, now)
      await store.register(registration('b', 'x', { ttl: 20 }), limits, now)
      await store.register(registration('c', 'y', { ttl: 30 }), limits, now)

      expect(await store.prune(now + 20)).toBe(2)
      expect(await store.prune(now + 20)).toBe(0)
      // asked about a time before they expired, the store no longer knows the pruned ones
      expect(await store.namespaceStats(now)).toEqual(new Map([['y', 1]]))
      expect(await pageThrough(store, undefined, 10)).toEqual(['c'])
    })
  })
})
