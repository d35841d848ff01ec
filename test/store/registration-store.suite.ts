/**
 * What every `RegistrationStore` must do, whatever keeps the registrations.
 * Each store's test file calls `describeRegistrationStore` with a way to open
 * a fresh, empty store. Time is the `now` the tests pass in, never the clock.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { NewRegistration, RegisterOutcome, RegistrationLimits, RegistrationStore, StoredRegistration } from '../../src/server/store/registration-store.ts'

export interface StoreUnderTest {
  store: RegistrationStore
  close?(): Promise<void>
}

/** Any fixed instant; the stores must not care which */
const T0 = 1_700_000_000_000
const MINUTE = 60_000
const ROOMY: RegistrationLimits = { maxPerPeer: 1000, maxTotal: 100_000 }
const encoder = new TextEncoder()

let records = 0

interface RegistrationOptions {
  seq?: bigint
  /** Milliseconds from `now` */
  ttl?: number
  now?: number
  /** A pre-2020 PeerInfo registration */
  unsigned?: boolean
  /** The relay every address of the record goes through */
  relayedVia?: string
}

/** A registration with record bytes unique to this call (binary, with 0x00 and 0xff, as real records are) */
function registration (peerId: string, namespace: string, { seq = 1n, ttl = 10 * MINUTE, now = T0, unsigned = false, relayedVia }: RegistrationOptions = {}): NewRegistration {
  const label = encoder.encode(`${peerId}/${namespace}/${++records}`)
  return {
    peerId,
    namespace,
    signedPeerRecord: new Uint8Array([0x00, 0xff, ...label, 0x0a]),
    ...(unsigned ? { unsigned: true, seq: 0n } : { seq }),
    expiresAt: now + ttl,
    ...(relayedVia != null ? { relayedVia } : {})
  }
}

function summary (registrations: StoredRegistration[]): string[] {
  return registrations.map(r => `${r.namespace}:${r.peerId}`)
}

export function describeRegistrationStore (name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`${name}: the shared store suite`, () => {
    let subject: StoreUnderTest
    let store: RegistrationStore

    beforeEach(async () => {
      subject = await open()
      store = subject.store
    })

    afterEach(async () => {
      await subject.close?.()
    })

    async function register (r: NewRegistration, limits = ROOMY, now = T0): Promise<RegisterOutcome> {
      return store.register(r, limits, now)
    }

    async function everything (namespace?: string, now = T0): Promise<StoredRegistration[]> {
      return (await store.discover(namespace, 0n, 100_000, now)).registrations
    }

    async function unregisterRelayed (peerId: string, relay: string): Promise<number> {
      if (store.unregisterRelayed == null) throw new Error(`${name} cannot unregister by relay`)
      return store.unregisterRelayed(peerId, relay, T0)
    }

    it('returns what it registered: the record bytes, seq and expiry as given, and a cursor', async () => {
      const given = registration('peer-a', 'chat', { seq: 7n })
      expect(await register(given)).toEqual({ ok: true })

      const page = await store.discover('chat', 0n, 10, T0)
      expect(page.registrations).toHaveLength(1)
      const [found] = page.registrations
      expect(found.peerId).toBe('peer-a')
      expect(found.namespace).toBe('chat')
      expect(Array.from(found.signedPeerRecord)).toEqual(Array.from(given.signedPeerRecord))
      expect(found.seq).toBe(7n)
      expect(found.expiresAt).toBe(given.expiresAt)
      expect(found.cursor).toBeGreaterThan(0n)
      expect(page.cursor).toBe(found.cursor)
    })

    it('keeps its own copy of the record bytes', async () => {
      const given = registration('peer-a', 'chat')
      const original = Array.from(given.signedPeerRecord)
      await register(given)
      given.signedPeerRecord.fill(0x42)
      const [found] = await everything('chat')
      expect(Array.from(found.signedPeerRecord)).toEqual(original)
    })

    it('takes namespaces of any characters, braces and newlines included', async () => {
      const odd = ['{tag}', 'a\nb', 'ünï ©ode', 'x}{y', ':']
      for (const namespace of odd) await register(registration('peer-a', namespace))
      await register(registration('peer-b', 'a\nb'))

      for (const namespace of odd) {
        expect(summary(await everything(namespace))).toEqual(namespace === 'a\nb' ? [`${namespace}:peer-a`, `${namespace}:peer-b`] : [`${namespace}:peer-a`])
      }
      expect(await everything()).toHaveLength(odd.length + 1)
      expect(await store.unregister('peer-a', 'a\nb', T0)).toBe(1)
      expect(summary(await everything('a\nb'))).toEqual(['a\nb:peer-b'])
    })

    it('replaces a re-registration, which takes a new, higher cursor', async () => {
      await register(registration('peer-a', 'chat'))
      await register(registration('peer-b', 'chat'))
      const [first] = await everything('chat')
      const again = registration('peer-a', 'chat', { seq: 2n })
      expect(await register(again)).toEqual({ ok: true })

      const found = await everything('chat')
      expect(summary(found)).toEqual(['chat:peer-b', 'chat:peer-a'])
      expect(found[1].cursor).toBeGreaterThan(found[0].cursor)
      expect(found[1].cursor).toBeGreaterThan(first.cursor)
      expect(found[1].seq).toBe(2n)
      expect(Array.from(found[1].signedPeerRecord)).toEqual(Array.from(again.signedPeerRecord))
      expect(await everything()).toHaveLength(2)
    })

    it('unregisters one namespace or all of a peer\'s, and says how many went', async () => {
      for (const namespace of ['one', 'two', 'three']) await register(registration('peer-a', namespace))
      await register(registration('peer-b', 'one'))

      expect(await store.unregister('peer-a', 'one', T0)).toBe(1)
      expect(summary(await everything('one'))).toEqual(['one:peer-b'])
      expect(await store.unregister('peer-a', 'one', T0)).toBe(0)
      expect(await store.unregister('peer-c', undefined, T0)).toBe(0)

      expect(await store.unregister('peer-a', undefined, T0)).toBe(2)
      expect(summary(await everything())).toEqual(['one:peer-b'])
      expect(await store.namespaceStats(T0)).toEqual(new Map([['one', 1]]))
    })

    it('discovers in cursor order, in one namespace or across all of them', async () => {
      const order = [['peer-a', 'red'], ['peer-b', 'blue'], ['peer-c', 'red'], ['peer-a', 'blue'], ['peer-d', 'green']]
      for (const [peer, namespace] of order) await register(registration(peer, namespace))

      const all = await everything()
      expect(summary(all)).toEqual(order.map(([peer, namespace]) => `${namespace}:${peer}`))
      for (let i = 1; i < all.length; i++) expect(all[i].cursor).toBeGreaterThan(all[i - 1].cursor)
      expect(summary(await everything('red'))).toEqual(['red:peer-a', 'red:peer-c'])
      expect(summary(await everything('blue'))).toEqual(['blue:peer-b', 'blue:peer-a'])
    })

    it('pages after a cursor; an empty page keeps the cursor it was asked after', async () => {
      for (const peer of ['p1', 'p2', 'p3', 'p4', 'p5']) await register(registration(peer, 'chat'))

      const first = await store.discover('chat', 0n, 2, T0)
      expect(summary(first.registrations)).toEqual(['chat:p1', 'chat:p2'])
      expect(first.cursor).toBe(first.registrations[1].cursor)
      const second = await store.discover('chat', first.cursor, 2, T0)
      expect(summary(second.registrations)).toEqual(['chat:p3', 'chat:p4'])
      const third = await store.discover('chat', second.cursor, 2, T0)
      expect(summary(third.registrations)).toEqual(['chat:p5'])
      const done = await store.discover('chat', third.cursor, 2, T0)
      expect(done).toEqual({ registrations: [], cursor: third.cursor })

      expect(await store.discover('nobody-here', 12n, 5, T0)).toEqual({ registrations: [], cursor: 12n })
    })

    for (const scope of ['one namespace', 'all namespaces']) {
      it(`pages through ${scope} with re-registrations in between: every registration exactly once`, async () => {
        const namespaces = scope === 'one namespace' ? ['big'] : ['big', 'other']
        const asked = scope === 'one namespace' ? 'big' : undefined
        let seq = 1n
        const peers: string[] = []
        for (let i = 0; i < 30; i++) {
          const peer = `peer-${String(i).padStart(2, '0')}`
          peers.push(peer)
          await register(registration(peer, namespaces[i % namespaces.length], { seq }))
        }
        const namespaceOf = new Map(peers.map((peer, i) => [peer, namespaces[i % namespaces.length]]))

        const seen: StoredRegistration[] = []
        const reregisteredAfterSeen = new Set<string>()
        let cursor = 0n
        let round = 0
        while (true) {
          const page = await store.discover(asked, cursor, 7, T0)
          if (page.registrations.length === 0) break
          seen.push(...page.registrations)
          cursor = page.cursor
          round++
          // between the first pages: one peer already seen and one not yet seen re-register, and a new one arrives
          if (round > 4) continue
          seq++
          const seenPeers = new Set(seen.map(r => r.peerId))
          const before = seen[round % seen.length].peerId
          reregisteredAfterSeen.add(before)
          await register(registration(before, namespaceOf.get(before) ?? 'big', { seq }))
          const notYet = peers.find(peer => !seenPeers.has(peer) && peer !== before)
          if (notYet != null) await register(registration(notYet, namespaceOf.get(notYet) ?? 'big', { seq }))
          {
            const fresh = `late-${round}`
            peers.push(fresh)
            namespaceOf.set(fresh, namespaces[round % namespaces.length])
            await register(registration(fresh, namespaceOf.get(fresh) ?? 'big', { seq }))
          }
        }

        // cursors only grow from page to page, so nothing came twice at the same cursor
        for (let i = 1; i < seen.length; i++) expect(seen[i].cursor).toBeGreaterThan(seen[i - 1].cursor)
        // every registration now in the store was seen, at its current cursor
        const current = await everything(asked)
        expect(current.map(r => r.peerId).sort()).toEqual([...peers].sort())
        const seenAt = new Set(seen.map(r => `${r.peerId}@${r.cursor}`))
        for (const r of current) expect(seenAt.has(`${r.peerId}@${r.cursor}`)).toBe(true)
        // a peer shows up twice only when it registered again after it was seen
        for (const peer of peers) {
          const times = seen.filter(r => r.peerId === peer).length
          expect(times, peer).toBe(reregisteredAfterSeen.has(peer) ? 2 : 1)
        }
      })
    }

    it('filters out expired registrations when reading, without shortening a page', async () => {
      for (let i = 0; i < 6; i++) {
        await register(registration(`short-${i}`, 'chat', { ttl: 1 * MINUTE }))
        await register(registration(`long-${i}`, 'chat', { ttl: 10 * MINUTE }))
      }
      const justBefore = T0 + MINUTE - 1
      const atExpiry = T0 + MINUTE
      expect(await everything('chat', justBefore)).toHaveLength(12)

      const page = await store.discover('chat', 0n, 4, atExpiry)
      expect(summary(page.registrations)).toEqual(['chat:long-0', 'chat:long-1', 'chat:long-2', 'chat:long-3'])
      const rest = await store.discover('chat', page.cursor, 4, atExpiry)
      expect(summary(rest.registrations)).toEqual(['chat:long-4', 'chat:long-5'])
      expect(await everything(undefined, atExpiry)).toHaveLength(6)
      expect(await store.namespaceStats(atExpiry)).toEqual(new Map([['chat', 6]]))
      // only hidden, not yet forgotten
      expect(await everything('chat', justBefore)).toHaveLength(12)
    })

    it('prunes expired registrations and says how many went', async () => {
      for (let i = 0; i < 3; i++) await register(registration(`short-${i}`, i === 0 ? 'red' : 'blue', { ttl: MINUTE }))
      for (let i = 0; i < 2; i++) await register(registration(`long-${i}`, 'blue', { ttl: 10 * MINUTE }))

      expect(await store.prune(T0 + MINUTE - 1)).toBe(0)
      expect(await store.prune(T0 + MINUTE)).toBe(3)
      expect(await store.prune(T0 + MINUTE)).toBe(0)
      // forgotten, so even a reader whose clock is behind sees them no more
      expect(summary(await everything(undefined, T0))).toEqual(['blue:long-0', 'blue:long-1'])
      expect(await store.namespaceStats(T0)).toEqual(new Map([['blue', 2]]))
    })

    it('holds a peer to its limit of namespaces, while re-registering at the limit still works', async () => {
      const limits = { maxPerPeer: 2, maxTotal: 100 }
      expect(await register(registration('peer-a', 'one'), limits)).toEqual({ ok: true })
      expect(await register(registration('peer-a', 'two'), limits)).toEqual({ ok: true })
      expect(await register(registration('peer-a', 'three'), limits)).toEqual({ ok: false, reason: 'peer-limit' })
      expect(await register(registration('peer-a', 'one', { seq: 2n }), limits)).toEqual({ ok: true })
      expect(await register(registration('peer-b', 'three'), limits)).toEqual({ ok: true })

      await store.unregister('peer-a', 'two', T0)
      expect(await register(registration('peer-a', 'three'), limits)).toEqual({ ok: true })
      expect(summary(await everything()).filter(s => s.endsWith('peer-a')).sort()).toEqual(['one:peer-a', 'three:peer-a'])
    })

    it('counts only unexpired registrations against the per-peer limit', async () => {
      const limits = { maxPerPeer: 2, maxTotal: 100 }
      await register(registration('peer-a', 'one', { ttl: MINUTE }), limits)
      await register(registration('peer-a', 'two', { ttl: 10 * MINUTE }), limits)
      const later = T0 + MINUTE
      expect(await register(registration('peer-a', 'three', { now: later }), limits, later)).toEqual({ ok: true })
      expect(summary(await everything(undefined, T0)).sort()).toEqual(['three:peer-a', 'two:peer-a'])
    })

    it('holds the store to its total limit, while re-registering at the limit still works', async () => {
      const limits = { maxPerPeer: 10, maxTotal: 3 }
      for (const peer of ['a', 'b', 'c']) expect(await register(registration(peer, 'chat'), limits)).toEqual({ ok: true })
      expect(await register(registration('d', 'chat'), limits)).toEqual({ ok: false, reason: 'total-limit' })
      expect(await register(registration('a', 'other'), limits)).toEqual({ ok: false, reason: 'total-limit' })
      expect(await register(registration('a', 'chat', { seq: 2n }), limits)).toEqual({ ok: true })

      await store.unregister('b', undefined, T0)
      expect(await register(registration('d', 'chat'), limits)).toEqual({ ok: true })
      expect(summary(await everything()).sort()).toEqual(['chat:a', 'chat:c', 'chat:d'])
    })

    it('counts only unexpired registrations against the total limit', async () => {
      const limits = { maxPerPeer: 10, maxTotal: 2 }
      await register(registration('a', 'chat', { ttl: MINUTE }), limits)
      await register(registration('b', 'chat', { ttl: 10 * MINUTE }), limits)
      expect(await register(registration('c', 'chat'), limits)).toEqual({ ok: false, reason: 'total-limit' })
      const later = T0 + MINUTE
      expect(await register(registration('c', 'chat', { now: later }), limits, later)).toEqual({ ok: true })
      expect(summary(await everything(undefined, T0))).toEqual(['chat:b', 'chat:c'])
    })

    it('refuses a record older than the one it would replace, comparing uint64 sequence numbers exactly', async () => {
      await register(registration('peer-a', 'chat', { seq: 10n }))
      expect(await register(registration('peer-a', 'chat', { seq: 9n }))).toEqual({ ok: false, reason: 'stale-record', currentSeq: 10n })
      expect(await register(registration('peer-a', 'chat', { seq: 10n }))).toEqual({ ok: true })
      expect(await register(registration('peer-a', 'chat', { seq: 11n }))).toEqual({ ok: true })

      // beyond 2^53, where a float would call them equal
      const big = 18_446_744_073_709_551_614n
      await register(registration('peer-b', 'chat', { seq: big }))
      expect(await register(registration('peer-b', 'chat', { seq: big - 1n }))).toEqual({ ok: false, reason: 'stale-record', currentSeq: big })
      expect(await register(registration('peer-b', 'chat', { seq: big + 1n }))).toEqual({ ok: true })

      const found = await everything('chat')
      expect(found.map(r => [r.peerId, r.seq])).toEqual([['peer-a', 11n], ['peer-b', big + 1n]])
    })

    it('lets an older record replace an expired one', async () => {
      await register(registration('peer-a', 'chat', { seq: 10n, ttl: MINUTE }))
      const later = T0 + MINUTE
      expect(await register(registration('peer-a', 'chat', { seq: 3n, now: later }), ROOMY, later)).toEqual({ ok: true })
      expect((await everything('chat', later)).map(r => r.seq)).toEqual([3n])
    })

    it('keeps the unsigned mark of a PeerInfo registration, and none on a signed one', async () => {
      await register(registration('peer-a', 'chat', { unsigned: true }))
      await register(registration('peer-b', 'chat'))
      const [unsigned, signed] = await everything('chat')
      expect(unsigned).toMatchObject({ peerId: 'peer-a', unsigned: true, seq: 0n })
      expect(signed.peerId).toBe('peer-b')
      expect(signed.unsigned).not.toBe(true)
      // a signed re-registration replaces the unsigned one and drops the mark; an unsigned one cannot replace a signed one
      expect(await register(registration('peer-a', 'chat', { seq: 5n }))).toEqual({ ok: true })
      expect(await register(registration('peer-a', 'chat', { unsigned: true }))).toEqual({ ok: false, reason: 'stale-record', currentSeq: 5n })
      expect((await everything('chat')).map(r => [r.peerId, r.unsigned === true])).toEqual([['peer-b', false], ['peer-a', false]])
    })

    for (const scope of ['one namespace', 'all namespaces']) {
      it(`leaves unsigned registrations out when asked, with pages still full and cursors that skip nothing signed (${scope})`, async () => {
        const asked = scope === 'one namespace' ? 'chat' : undefined
        // signed ones between runs of unsigned ones, at both ends too
        const kinds = 'UUSUUUSSUSUUUUSUSSU'
        for (const [i, kind] of [...kinds].entries()) {
          // across all namespaces, the registrations take turns between two
          await register(registration(`p${String(i).padStart(2, '0')}`, asked != null || i % 3 === 0 ? 'chat' : 'other', { unsigned: kind === 'U' }))
        }
        const signed = [...kinds].flatMap((kind, i) => kind === 'S' ? [`p${String(i).padStart(2, '0')}`] : [])

        const pages: string[][] = []
        let cursor = 0n
        for (let round = 0; round < kinds.length; round++) {
          const page = await store.discover(asked, cursor, 2, T0, { signedOnly: true })
          if (page.registrations.length === 0) {
            expect(page.cursor).toBe(cursor)
            break
          }
          expect(page.registrations.every(r => r.unsigned !== true)).toBe(true)
          pages.push(page.registrations.map(r => r.peerId))
          cursor = page.cursor
        }
        // full pages until the last, every signed registration exactly once, in order
        expect(pages.flat()).toEqual(signed)
        expect(pages.slice(0, -1).every(page => page.length === 2)).toBe(true)
        // without the option, everything comes back
        expect(await everything(asked)).toHaveLength(kinds.length)
      })
    }

    it('counts unexpired registrations per namespace', async () => {
      await register(registration('a', 'red'))
      await register(registration('b', 'red'))
      await register(registration('a', 'blue', { ttl: MINUTE }))
      await register(registration('c', 'green', { ttl: MINUTE }))
      expect(await store.namespaceStats(T0)).toEqual(new Map([['red', 2], ['blue', 1], ['green', 1]]))
      expect(await store.namespaceStats(T0 + MINUTE)).toEqual(new Map([['red', 2]]))
    })

    it('keeps the relay a registration goes through and returns it; none when there is none', async () => {
      await register(registration('peer-a', 'chat', { relayedVia: 'relay-1' }))
      await register(registration('peer-b', 'chat'))
      const found = await everything('chat')
      expect(found.map(r => [r.peerId, r.relayedVia])).toEqual([['peer-a', 'relay-1'], ['peer-b', undefined]])
    })

    it('keeps both marks of an unsigned registration through a relay', async () => {
      await register(registration('peer-a', 'chat', { unsigned: true, relayedVia: 'relay-1' }))
      const [found] = (await store.discover('chat', 0n, 10, T0)).registrations
      expect([found.unsigned, found.relayedVia]).toEqual([true, 'relay-1'])
      expect((await store.discover('chat', 0n, 10, T0, { signedOnly: true })).registrations).toEqual([])
      expect(await unregisterRelayed('peer-a', 'relay-1')).toBe(1)
    })

    it('unregisters by relay only the peer\'s registrations through that relay, and says how many went', async () => {
      await register(registration('peer-a', 'red', { relayedVia: 'relay-1' }))
      await register(registration('peer-a', 'blue', { relayedVia: 'relay-1' }))
      await register(registration('peer-a', 'green', { relayedVia: 'relay-2' }))
      await register(registration('peer-a', 'plain'))
      await register(registration('peer-b', 'red', { relayedVia: 'relay-1' }))

      expect(await unregisterRelayed('peer-a', 'relay-1')).toBe(2)
      expect(summary(await everything()).sort()).toEqual(['green:peer-a', 'plain:peer-a', 'red:peer-b'])
      expect(await store.namespaceStats(T0)).toEqual(new Map([['green', 1], ['plain', 1], ['red', 1]]))
      expect(await unregisterRelayed('peer-a', 'relay-1')).toBe(0)
      expect(await unregisterRelayed('peer-c', 'relay-1')).toBe(0)
      expect(await unregisterRelayed('peer-a', '')).toBe(0)
      expect(await everything()).toHaveLength(3)
    })

    it('spares what the peer registered since through another relay or with an address of its own, and frees the limits of what went', async () => {
      const limits = { maxPerPeer: 3, maxTotal: 3 }
      await register(registration('peer-a', 'moved', { relayedVia: 'relay-1' }), limits)
      await register(registration('peer-a', 'direct', { relayedVia: 'relay-1' }), limits)
      await register(registration('peer-a', 'stayed', { relayedVia: 'relay-1' }), limits)
      await register(registration('peer-a', 'moved', { seq: 2n, relayedVia: 'relay-2' }), limits)
      await register(registration('peer-a', 'direct', { seq: 2n }), limits)
      expect(await register(registration('peer-b', 'chat'), limits)).toEqual({ ok: false, reason: 'total-limit' })

      expect(await unregisterRelayed('peer-a', 'relay-1')).toBe(1)
      expect((await everything()).map(r => [r.namespace, r.relayedVia]).sort()).toEqual([['direct', undefined], ['moved', 'relay-2']])
      expect(await register(registration('peer-b', 'chat'), limits)).toEqual({ ok: true })
      // back through the first relay: that one goes with the next departure from it
      await register(registration('peer-a', 'moved', { seq: 3n, relayedVia: 'relay-1' }), limits)
      expect(await unregisterRelayed('peer-a', 'relay-1')).toBe(1)
      expect(summary(await everything()).sort()).toEqual(['chat:peer-b', 'direct:peer-a'])
    })
  })
}
