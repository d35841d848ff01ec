import { afterEach, describe, it, expect } from 'vitest'
import { Message, discoverRequest, registerOk, registerRequest, unregisterRequest } from '../../src/protocol/messages.ts'
import { CARRIERS, startPoint, stopPoints } from '../fixtures/harness.ts'
import { signRecord } from '../fixtures/records.ts'
import { MessageField, bytesField, varint, varintField } from '../fixtures/wire.ts'
import type { TestPeer } from '../fixtures/harness.ts'
import type { RawSession } from '../fixtures/session.ts'
import type { DialTarget } from '@libp2p/interface'

/** Small enough that waiting it out is cheap; the tests only ever wait for the close it causes */
const timeout = 200

async function expectReset (raw: RawSession): Promise<void> {
  await expect(raw.receiveBytes()).rejects.toHaveProperty('name', 'StreamResetError')
}

async function stillServes (peer: TestPeer, target: DialTarget): Promise<void> {
  expect(await peer.client.register(target, 'still-here', { ttl: 300 })).toBe(300)
}

describe.each(CARRIERS)('streams over %s', (carrier) => {
  afterEach(stopPoints)

  it('given several requests on one stream, then each is answered in order, UNREGISTER with silence', async () => {
    const point = await startPoint(carrier)
    const alice = await point.peer()
    const record = await signRecord(alice.privateKey)
    const raw = await alice.session()

    expect(await raw.request(registerRequest('app', record, 300))).toEqual(registerOk(300))
    expect((await raw.request(discoverRequest('app'))).discoverResponse?.registrations.map(r => r.ns)).toEqual(['app'])
    await raw.send(unregisterRequest('app'))
    expect((await raw.request(discoverRequest('app'))).discoverResponse?.registrations).toEqual([])
    expect(await raw.request(registerRequest('app', record, 600))).toEqual(registerOk(600))

    await raw.close()
    await raw.ended()
    expect(raw.stream.status).toBe('closed')
  })

  it('given a one-shot stream whose writer closes right after its request, then the answer still comes and the stream closes cleanly', async () => {
    const point = await startPoint(carrier)
    const alice = await point.peer()
    const raw = await alice.session()
    await raw.send(registerRequest('app', await signRecord(alice.privateKey), 300))
    await raw.close()
    expect(await raw.receive()).toEqual(registerOk(300))
    await raw.ended()
    expect(raw.stream.status).toBe('closed')
  })

  it('given concurrent one-shot streams from several peers, then every request is served', async () => {
    const point = await startPoint(carrier)
    const peers = [await point.peer(), await point.peer(), await point.peer()]
    await Promise.all(peers.flatMap(peer => ['a', 'b', 'c', 'd'].map(async ns => peer.client.register(point.target, ns, { ttl: 300 }))))
    expect(await point.server.getNamespaceStats()).toEqual(new Map([['a', 3], ['b', 3], ['c', 3], ['d', 3]]))
  })

  it('given a stream that sends half a frame and goes silent, then the point aborts it after its timeout and keeps serving', async () => {
    const point = await startPoint(carrier, { timeout })
    const alice = await point.peer()
    const raw = await alice.session()
    raw.stream.send(Uint8Array.from([...varint(100), 1, 2, 3]))
    await expectReset(raw)
    await stillServes(alice, point.target)
  })

  it('given a stream that sends nothing at all, then the point aborts it after its timeout', async () => {
    const point = await startPoint(carrier, { timeout })
    const raw = await (await point.peer()).session()
    await expectReset(raw)
  })

  it('given a stream that goes silent after a served request, then the point aborts it after its timeout', async () => {
    const point = await startPoint(carrier, { timeout })
    const alice = await point.peer()
    const raw = await alice.session()
    expect((await raw.request(discoverRequest('app'))).type).toBe(Message.MessageType.DISCOVER_RESPONSE)
    await expectReset(raw)
  })

  it('given a frame that announces more than the size limit, then the stream is reset before the body is read, and the point serves others', async () => {
    const point = await startPoint(carrier)
    const [mallory, alice] = [await point.peer(), await point.peer()]
    const raw = await mallory.session()
    raw.stream.send(varint(64 * 1024 + 1))
    await expectReset(raw)
    await stillServes(alice, point.target)
    await stillServes(mallory, point.target)
  })

  it('given a point with a smaller size limit, then a REGISTER over it resets the stream', async () => {
    const point = await startPoint(carrier, { maxMessageSize: 64 })
    const alice = await point.peer()
    const raw = await alice.session()
    await raw.send(registerRequest('app', await signRecord(alice.privateKey), 300))
    await expectReset(raw)
  })

  it.each([
    { given: 'bytes that are not protobuf', frame: Uint8Array.from([0xff, 0xff, 0xff]) },
    { given: 'a message type nobody defined', frame: varintField(MessageField.type, 99) },
    { given: 'a response instead of a request', frame: Message.encode(registerOk(60)) },
    { given: 'a DISCOVER_RESPONSE body without a type', frame: bytesField(MessageField.discoverResponse, new Uint8Array()) }
  ])('given $given, then the stream is reset and the point serves others', async ({ frame }) => {
    const point = await startPoint(carrier)
    const [mallory, alice] = [await point.peer(), await point.peer()]
    const raw = await mallory.session()
    await raw.send(frame)
    await expectReset(raw)
    await stillServes(alice, point.target)
  })
})
