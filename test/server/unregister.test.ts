import { afterEach, describe, it, expect, vi } from 'vitest'
import { Message, discoverRequest, unregisterRequest } from '../../src/protocol/messages.ts'
import { CARRIERS, UNANSWERED, registerMany, startPoint, stopPoints } from '../fixtures/harness.ts'
import type { TestPeer, TestPoint } from '../fixtures/harness.ts'

async function registered (point: TestPoint, asker: TestPeer): Promise<string[]> {
  const { registrations } = await asker.client.discover(point.target)
  return registrations.map(r => `${r.peerId}/${r.namespace}`)
}

describe.each(CARRIERS)('UNREGISTER over %s', (carrier) => {
  afterEach(stopPoints)

  it('given a registration, when the peer unregisters, then it is gone and its other namespaces stay', async () => {
    const point = await startPoint(carrier)
    const alice = await point.peer()
    await alice.client.register(point.target, 'a', { ttl: 300 })
    await alice.client.register(point.target, 'b', { ttl: 300 })
    await alice.client.unregister(point.target, 'a')
    // nothing answers an UNREGISTER, so nothing says when the point has handled it
    await vi.waitFor(async () => { expect(await registered(point, alice)).toEqual([`${alice.peerId}/b`]) }, UNANSWERED)
    expect(await point.server.getNamespaceStats()).toEqual(new Map([['b', 1]]))
  })

  it('given an UNREGISTER followed by a DISCOVER on one stream, then the first answer is the DISCOVER\'s: UNREGISTER gets none', async () => {
    const point = await startPoint(carrier)
    const alice = await point.peer()
    await alice.client.register(point.target, 'app', { ttl: 300 })
    const raw = await alice.session()
    await raw.send(unregisterRequest('app'))
    const answer = await raw.request(discoverRequest('app'))
    expect(answer.type).toBe(Message.MessageType.DISCOVER_RESPONSE)
    expect(answer.discoverResponse?.registrations).toEqual([])
  })

  it('given no registration in the namespace, then UNREGISTER is a no-op that disturbs nobody', async () => {
    const point = await startPoint(carrier)
    const [alice, bob] = [await point.peer(), await point.peer()]
    await alice.client.register(point.target, 'app', { ttl: 300 })
    const raw = await bob.session()
    await raw.send(unregisterRequest('app'))
    await raw.send(unregisterRequest('never-used'))
    const answer = await raw.request(discoverRequest())
    expect(answer.discoverResponse?.registrations.map(r => r.ns)).toEqual(['app'])
  })

  it('given the legacy id of another peer, then the UNREGISTER is ignored', async () => {
    const point = await startPoint(carrier)
    const [alice, mallory] = [await point.peer(), await point.peer()]
    await alice.client.register(point.target, 'app', { ttl: 300 })
    await mallory.client.register(point.target, 'app', { ttl: 300 })
    const raw = await mallory.session()
    await raw.send(unregisterRequest('app', alice.peerId.toMultihash().bytes))
    // the DISCOVER on the same stream is served after the UNREGISTER was handled
    const answer = await raw.request(discoverRequest('app'))
    expect(answer.discoverResponse?.registrations).toHaveLength(2)
  })

  it('given a client that sends the legacy id, then its own registration is removed', async () => {
    const point = await startPoint(carrier)
    const alice = await point.peer({ legacyUnregisterId: true })
    await alice.client.register(point.target, 'app', { ttl: 300 })
    await alice.client.unregister(point.target, 'app')
    await vi.waitFor(async () => { expect(await registered(point, alice)).toEqual([]) }, UNANSWERED)
  })

  it.each([
    { given: 'ns ""', unregister: { ns: '' } },
    { given: 'no ns', unregister: {} }
  ])('given $given, as go sends to leave every namespace, then all of the sender\'s registrations go and nobody else\'s', async ({ unregister }) => {
    const point = await startPoint(carrier)
    const [alice, bob] = [await point.peer(), await point.peer()]
    await registerMany(alice, ['a', 'b', 'c'])
    await bob.client.register(point.target, 'a', { ttl: 300 })
    const raw = await alice.session()
    await raw.send({ type: Message.MessageType.UNREGISTER, unregister })
    expect((await raw.request(discoverRequest())).discoverResponse?.registrations.map(r => r.ns)).toEqual(['a'])
  })

  it('given a namespace longer than the limit, then the UNREGISTER is ignored and the stream goes on', async () => {
    const point = await startPoint(carrier)
    const alice = await point.peer()
    await alice.client.register(point.target, 'app', { ttl: 300 })
    const raw = await alice.session()
    await raw.send(unregisterRequest('a'.repeat(256)))
    expect((await raw.request(discoverRequest('app'))).discoverResponse?.registrations).toHaveLength(1)
  })
})
