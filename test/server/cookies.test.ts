import { afterEach, describe, it, expect } from 'vitest'
import { Message } from '../../src/protocol/messages.ts'
import { MemoryRegistrationStore } from '../../src/server/store/memory-store.ts'
import { CARRIERS, startPoint, stopPoints } from '../fixtures/harness.ts'
import type { TestPeer, TestPoint } from '../fixtures/harness.ts'

async function peersIn (point: TestPoint, asker: TestPeer, namespace: string | undefined, cookie?: Uint8Array): Promise<{ peers: string[], cookie?: Uint8Array }> {
  const page = await asker.client.discover(point.target, namespace, { cookie })
  return { peers: page.registrations.map(r => r.peerId.toString()), cookie: page.cookie }
}

describe.each(CARRIERS)('cookies over %s', (carrier) => {
  afterEach(stopPoints)

  it('given a cookie from an earlier answer, then only registrations made since come back', async () => {
    const point = await startPoint(carrier)
    const [alice, bob, carol] = [await point.peer(), await point.peer(), await point.peer()]
    await alice.client.register(point.target, 'app', { ttl: 300 })

    const first = await peersIn(point, carol, 'app')
    expect(first.peers).toEqual([alice.peerId.toString()])

    await bob.client.register(point.target, 'app', { ttl: 300 })
    const second = await peersIn(point, carol, 'app', first.cookie)
    expect(second.peers).toEqual([bob.peerId.toString()])

    const third = await peersIn(point, carol, 'app', second.cookie)
    expect(third.peers).toEqual([])
    // an empty page still moves nothing back: the same cookie keeps working
    expect((await peersIn(point, carol, 'app', third.cookie)).peers).toEqual([])
  })

  it('given a peer re-registers after a cookie was issued, then it comes back as new', async () => {
    const point = await startPoint(carrier)
    const [alice, bob] = [await point.peer(), await point.peer()]
    await alice.client.register(point.target, 'app', { ttl: 300 })
    await bob.client.register(point.target, 'app', { ttl: 300 })
    const { cookie } = await peersIn(point, bob, 'app')

    await alice.client.register(point.target, 'app', { ttl: 600 })
    expect((await peersIn(point, bob, 'app', cookie)).peers).toEqual([alice.peerId.toString()])
  })

  it('given a cookie for all namespaces, then it pages through all of them', async () => {
    const point = await startPoint(carrier)
    const [alice, bob] = [await point.peer(), await point.peer()]
    await alice.client.register(point.target, 'a', { ttl: 300 })
    const { cookie } = await peersIn(point, bob, undefined)
    await bob.client.register(point.target, 'b', { ttl: 300 })
    expect((await peersIn(point, alice, undefined, cookie)).peers).toEqual([bob.peerId.toString()])
  })

  it.each([
    { given: 'namespace a, used for namespace b', issuedFor: 'a', usedFor: 'b' },
    { given: 'all namespaces, used for namespace a', issuedFor: undefined, usedFor: 'a' },
    { given: 'namespace a, used for all namespaces', issuedFor: 'a', usedFor: undefined }
  ])('given a cookie issued for $given, then it is refused with E_INVALID_COOKIE', async ({ issuedFor, usedFor }) => {
    const point = await startPoint(carrier)
    const alice = await point.peer()
    await alice.client.register(point.target, 'a', { ttl: 300 })
    const { cookie } = await peersIn(point, alice, issuedFor)
    await expect(alice.client.discover(point.target, usedFor, { cookie })).rejects.toMatchObject({ name: 'InvalidCookieError', status: 'E_INVALID_COOKIE', code: 103 })
  })

  it.each([
    { given: 'truncated', change: (cookie: Uint8Array) => cookie.subarray(0, cookie.byteLength - 1) },
    { given: 'extended', change: (cookie: Uint8Array) => Uint8Array.from([...cookie, 0]) },
    { given: 'moved back to the start', change: (cookie: Uint8Array) => Uint8Array.from(cookie, (b, i) => i >= 1 && i < 9 ? 0 : b) },
    { given: 'of another version', change: (cookie: Uint8Array) => Uint8Array.from(cookie, (b, i) => i === 0 ? b + 1 : b) },
    { given: 'made up with the right version and length', change: (cookie: Uint8Array) => cookie.map((_, i) => i === 0 ? cookie[0] : i * 7) },
    { given: 'a single byte', change: () => Uint8Array.from([1]) }
  ])('given a cookie $given, then it is refused with E_INVALID_COOKIE', async ({ change }) => {
    const point = await startPoint(carrier)
    const alice = await point.peer()
    await alice.client.register(point.target, 'app', { ttl: 300 })
    const { cookie } = await peersIn(point, alice, 'app')
    await expect(alice.client.discover(point.target, 'app', { cookie: change(Uint8Array.from(cookie ?? [])) })).rejects.toHaveProperty('name', 'InvalidCookieError')
  })

  it('given an empty cookie on the wire, then it is no cookie at all and the whole namespace comes back', async () => {
    const point = await startPoint(carrier)
    const alice = await point.peer()
    await alice.client.register(point.target, 'app', { ttl: 300 })
    const raw = await alice.session()
    const response = await raw.request({ type: Message.MessageType.DISCOVER, discover: { ns: 'app', cookie: new Uint8Array() } })
    expect(response.discoverResponse?.status).toBe(Message.ResponseStatus.OK)
    expect(response.discoverResponse?.registrations).toHaveLength(1)
  })

  it('given a cookie from another point, then it is refused', async () => {
    const issuer = await startPoint(carrier)
    const other = await startPoint(carrier)
    const alice = await issuer.peer()
    const bob = await other.peer()
    const { cookie } = await peersIn(issuer, alice, 'app')
    await expect(bob.client.discover(other.target, 'app', { cookie })).rejects.toHaveProperty('name', 'InvalidCookieError')
  })

  it('given two points sharing a store and a cookie secret, then a cookie from one resumes at the other', async () => {
    const shared = { store: new MemoryRegistrationStore(), cookieSecret: new TextEncoder().encode('a secret both points hold') }
    const first = await startPoint(carrier, shared)
    const second = await startPoint(carrier, shared)
    const [alice, bob] = [await first.peer(), await first.peer()]
    const reader = await second.peer()
    await alice.client.register(first.target, 'app', { ttl: 300 })
    const { cookie } = await peersIn(first, alice, 'app')

    await bob.client.register(first.target, 'app', { ttl: 300 })
    expect((await peersIn(second, reader, 'app', cookie)).peers).toEqual([bob.peerId.toString()])
  })

  it('given a point restarted with the same secret and an empty store, then an old cookie still sees registrations made after the restart', async () => {
    const cookieSecret = new TextEncoder().encode('kept across restarts')
    const before = await startPoint(carrier, { store: new MemoryRegistrationStore(), cookieSecret })
    const [alice, reader] = [await before.peer(), await before.peer()]
    await alice.client.register(before.target, 'app', { ttl: 300 })
    const { cookie } = await peersIn(before, reader, 'app')

    // cursors start from the wall clock in microseconds; let it move past the first store's start
    await new Promise(resolve => setTimeout(resolve, 5))
    const after = await startPoint(carrier, { store: new MemoryRegistrationStore(), cookieSecret })
    const [bob, laterReader] = [await after.peer(), await after.peer()]
    await bob.client.register(after.target, 'app', { ttl: 300 })
    expect((await peersIn(after, laterReader, 'app', cookie)).peers).toEqual([bob.peerId.toString()])
  })
})
