/**
 * The client against points that are not ours: a real libp2p node whose
 * `/rendezvous/1.0.0` handler answers with frames built by hand, the way
 * proto3 implementations (berty, py, canvas) write them, or misbehaves the
 * way rust and nim points do (closing without an answer).
 */
import { afterEach, describe, it, expect } from 'vitest'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MAX_TTL } from '../../src/constants.ts'
import { UNANSWERED } from '../fixtures/harness.ts'
import { createClient, createScriptedPoint, stopNodes } from '../fixtures/nodes.ts'
import { LEGACY_ROUTING_STATE, newKey, signRecord, tamper } from '../fixtures/records.ts'
import { DiscoverField, DiscoverResponseField, MessageField, MessageType, RegisterField, RegisterResponseField, UnregisterField, body, bytesField, embedded, fieldNumbers, fieldValue, varintField } from '../fixtures/wire.ts'
import type { Answer, ClientNode, ScriptedPointNode, Transport } from '../fixtures/nodes.ts'
import type { RendezvousClientInit } from '../../src/client/api.ts'

function registerAnswer (...fields: Uint8Array[]): Uint8Array {
  return body(varintField(MessageField.type, MessageType.REGISTER_RESPONSE), bytesField(MessageField.registerResponse, body(...fields)))
}

function discoverAnswer (entries: Uint8Array[], ...fields: Uint8Array[]): Uint8Array {
  const registrations = entries.map(entry => bytesField(DiscoverResponseField.registrations, entry))
  return body(varintField(MessageField.type, MessageType.DISCOVER_RESPONSE), bytesField(MessageField.discoverResponse, body(...registrations, ...fields)))
}

/** A returned registration as proto3 points write it: the record, and only what is not a zero value */
function entry (record: Uint8Array, ...fields: Uint8Array[]): Uint8Array {
  return body(bytesField(RegisterField.signedPeerRecord, record), ...fields)
}

async function recordOfSomeone (): Promise<{ record: Uint8Array, peerId: string }> {
  const key = await newKey()
  return { record: await signRecord(key), peerId: peerIdFromPrivateKey(key).toString() }
}

describe.each<Transport>(['tcp', 'ws'])('the client against other points, over %s', (transport) => {
  afterEach(stopNodes)

  async function pointAnswering (answer: Answer, init: RendezvousClientInit = {}): Promise<ClientNode & { point: ScriptedPointNode }> {
    const point = await createScriptedPoint(answer, transport)
    return { ...await createClient(init, transport), point }
  }

  describe('answers without default fields', () => {
    it('given a REGISTER_RESPONSE with no status, then it is OK and the ttl the point granted is used', async () => {
      const { client, point } = await pointAnswering(() => registerAnswer(varintField(RegisterResponseField.ttl, 250)))
      expect(await client.register(point.address, 'app', { ttl: 300 })).toBe(250)
    })

    it('given a REGISTER_RESPONSE with no status and no ttl, then the ttl asked for is assumed, or 2 h when none was', async () => {
      const { client, point } = await pointAnswering(() => registerAnswer())
      expect(await client.register(point.address, 'app', { ttl: 300 })).toBe(300)
      expect(await client.register(point.address, 'app')).toBe(7200)
    })

    it('given a REGISTER_RESPONSE body with no type field, then the body is enough', async () => {
      const { client, point } = await pointAnswering(() => bytesField(MessageField.registerResponse, varintField(RegisterResponseField.ttl, 600)))
      expect(await client.register(point.address, 'app', { ttl: 600 })).toBe(600)
    })

    it('given a DISCOVER_RESPONSE with no status, no cookie and registrations without ns or ttl, then they count as the namespace asked for, with 2 h to live', async () => {
      const alice = await recordOfSomeone()
      const { client, point } = await pointAnswering(() => discoverAnswer([entry(alice.record)]))
      const page = await client.discover(point.address, 'app')
      expect(page.registrations.map(r => [r.peerId.toString(), r.namespace, r.ttl])).toEqual([[alice.peerId, 'app', 7200]])
      expect(page.cookie).toBeUndefined()
      expect(page.dropped).toBe(0)
    })

    it('given registrations with ns "", as go writes them, then they count as the namespace asked for', async () => {
      const alice = await recordOfSomeone()
      const { client, point } = await pointAnswering(() => discoverAnswer([entry(alice.record, bytesField(RegisterField.ns, ''), varintField(RegisterField.ttl, 60))]))
      const { registrations } = await client.discover(point.address, 'app')
      expect(registrations.map(r => [r.namespace, r.ttl])).toEqual([['app', 60]])
    })

    it('given a point that sends no cookie, then paging through everything stops after one page', async () => {
      const alice = await recordOfSomeone()
      const { client, point } = await pointAnswering(() => discoverAnswer([entry(alice.record)]))
      const all = []
      for await (const registration of client.discoverAll(point.address, 'app')) all.push(registration)
      expect(all).toHaveLength(1)
      expect(point.requests).toHaveLength(1)
    })

    it('given an error status with a text, then it is thrown as its named error with the point\'s text', async () => {
      const { client, point } = await pointAnswering(() => registerAnswer(varintField(RegisterResponseField.status, 102), bytesField(RegisterResponseField.statusText, 'ttl must be at least 7200')))
      await expect(client.register(point.address, 'app', { ttl: 300 })).rejects.toMatchObject({ name: 'InvalidTTLError', status: 'E_INVALID_TTL', code: 102, statusText: 'ttl must be at least 7200' })
    })
  })

  describe('registrations that cannot be trusted', () => {
    it('given forged, tampered and record-less entries among good ones, then only the bad ones are dropped, and counted', async () => {
      const [alice, bob] = [await recordOfSomeone(), await recordOfSomeone()]
      const forged = await signRecord(await newKey(), { peerId: peerIdFromPrivateKey(await newKey()) })
      const { client, point } = await pointAnswering(() => discoverAnswer([
        entry(alice.record, bytesField(RegisterField.ns, 'app')),
        entry(forged, bytesField(RegisterField.ns, 'app')),
        entry(tamper(bob.record), bytesField(RegisterField.ns, 'app')),
        bytesField(RegisterField.ns, 'app'),
        entry(bob.record, bytesField(RegisterField.ns, 'app'))
      ], bytesField(DiscoverResponseField.cookie, 'next')))
      const page = await client.discover(point.address, 'app')
      expect(page.registrations.map(r => r.peerId.toString())).toEqual([alice.peerId, bob.peerId])
      expect(page.dropped).toBe(3)
      expect(page.cookie).toEqual(new TextEncoder().encode('next'))
    })

    it('given several records of one peer on a page, stale ones before and after the newest, then only the newest is returned; a forged newer one does not hide it', async () => {
      const key = await newKey()
      const record = async (seq: bigint): Promise<Uint8Array> => signRecord(key, { seq, multiaddrs: [`/ip4/192.0.2.${seq}/tcp/1`] })
      // seq 9 claims to be the peer's but is signed by someone else
      const forgedNewest = await signRecord(await newKey(), { peerId: peerIdFromPrivateKey(key), seq: 9n })
      const bob = await recordOfSomeone()
      const { client, point } = await pointAnswering(async () => discoverAnswer([
        entry(await record(2n), bytesField(RegisterField.ns, 'app')),
        entry(bob.record, bytesField(RegisterField.ns, 'app')),
        entry(forgedNewest, bytesField(RegisterField.ns, 'app')),
        entry(await record(5n), bytesField(RegisterField.ns, 'app')),
        entry(await record(3n), bytesField(RegisterField.ns, 'app'))
      ]))
      const heard: bigint[] = []
      const page = await client.discover(point.address, 'app')
      expect(page.registrations.map(r => [r.peerId.toString(), r.seq])).toEqual([[bob.peerId, 1n], [peerIdFromPrivateKey(key).toString(), 5n]])
      expect(page.registrations[1].multiaddrs.map(String)).toEqual(['/ip4/192.0.2.5/tcp/1'])
      // the forged one and the two stale ones
      expect(page.dropped).toBe(3)
      for await (const registration of client.discoverAll(point.address, 'app')) heard.push(registration.seq)
      expect(heard.sort()).toEqual([1n, 5n])
    })

    it('given a registration for a namespace other than the one asked for, then it is dropped', async () => {
      const [alice, bob] = [await recordOfSomeone(), await recordOfSomeone()]
      const { client, point } = await pointAnswering(() => discoverAnswer([
        entry(alice.record, bytesField(RegisterField.ns, 'elsewhere')),
        entry(bob.record, bytesField(RegisterField.ns, 'app'))
      ]))
      const page = await client.discover(point.address, 'app')
      expect(page.registrations.map(r => r.peerId.toString())).toEqual([bob.peerId])
      expect(page.dropped).toBe(1)
    })

    it('given a record signed under rust-libp2p\'s legacy domain, then it is accepted', async () => {
      const key = await newKey()
      const { client, point } = await pointAnswering(async () => discoverAnswer([entry(await signRecord(key, LEGACY_ROUTING_STATE))]))
      const { registrations } = await client.discover(point.address, 'app')
      expect(registrations.map(r => r.peerId.toString())).toEqual([peerIdFromPrivateKey(key).toString()])
    })

    it('given absurd ttls, then they are clamped to 72 h', async () => {
      const alice = await recordOfSomeone()
      const { client, point } = await pointAnswering((request) => fieldNumbers(request).includes(MessageField.register)
        ? registerAnswer(varintField(RegisterResponseField.ttl, 2n ** 64n - 1n))
        : discoverAnswer([entry(alice.record, varintField(RegisterField.ttl, 2n ** 63n))]))
      expect(await client.register(point.address, 'app', { ttl: 300 })).toBe(MAX_TTL)
      expect((await client.discover(point.address, 'app')).registrations.map(r => r.ttl)).toEqual([MAX_TTL])
    })
  })

  describe('points that misbehave', () => {
    it('given a point that closes the stream without answering, then REGISTER and DISCOVER reject with NoResponseError', async () => {
      const { client, point } = await pointAnswering(() => undefined)
      await expect(client.register(point.address, 'app', { ttl: 7200 })).rejects.toHaveProperty('name', 'NoResponseError')
      await expect(client.discover(point.address, 'app')).rejects.toHaveProperty('name', 'NoResponseError')
    })

    it.each([
      { given: 'a frame that is not protobuf', frame: Uint8Array.from([0xff, 0xff, 0xff]) },
      { given: 'an answer of the wrong kind', frame: discoverAnswer([]) },
      { given: 'an empty frame', frame: new Uint8Array() }
    ])('given a point that answers REGISTER with $given, then it rejects with InvalidMessageError', async ({ frame }) => {
      const { client, point } = await pointAnswering(() => frame)
      await expect(client.register(point.address, 'app', { ttl: 7200 })).rejects.toHaveProperty('name', 'InvalidMessageError')
    })

    it('given a point that never answers, then the request fails once the client\'s timeout passes', async () => {
      const { client, node, point } = await pointAnswering(async () => new Promise<undefined>(() => {}), { timeout: 500 })
      // connected first, so that the timeout can only end the wait for an answer
      await node.dial(point.address)
      await expect(client.discover(point.address, 'app')).rejects.toHaveProperty('name', 'TimeoutError')
    })

    it('given a point that never answers, then the caller\'s signal ends the request', async () => {
      const { client, point } = await pointAnswering(async () => new Promise<undefined>(() => {}))
      const controller = new AbortController()
      const request = client.register(point.address, 'app', { ttl: 7200, signal: controller.signal })
      await expect.poll(() => point.requests.length, UNANSWERED).toBe(1)
      controller.abort()
      await expect(request).rejects.toHaveProperty('name', 'AbortError')
    })
  })

  describe('what the client sends', () => {
    it('given a REGISTER, then type REGISTER (0) is on the wire, with ns, our record and the ttl, or no ttl when none was given', async () => {
      const { client, point } = await pointAnswering(() => registerAnswer())
      await client.register(point.address, 'app', { ttl: 300 })
      await client.register(point.address, 'app')

      const [withTtl, withoutTtl] = point.requests
      expect(fieldValue(withTtl, MessageField.type)).toBe(BigInt(MessageType.REGISTER))
      expect(fieldNumbers(embedded(withTtl, MessageField.register))).toEqual([RegisterField.ns, RegisterField.signedPeerRecord, RegisterField.ttl])
      expect(fieldValue(embedded(withTtl, MessageField.register), RegisterField.ttl)).toBe(300n)
      expect(fieldNumbers(embedded(withoutTtl, MessageField.register))).toEqual([RegisterField.ns, RegisterField.signedPeerRecord])
    })

    it('given a DISCOVER for all namespaces with limit 0 and an empty cookie, then none of them is on the wire', async () => {
      const { client, point } = await pointAnswering(() => discoverAnswer([]))
      await client.discover(point.address, undefined, { limit: 0, cookie: new Uint8Array() })
      await client.discover(point.address, '', {})
      for (const request of point.requests) {
        expect(fieldValue(request, MessageField.type)).toBe(BigInt(MessageType.DISCOVER))
        expect(embedded(request, MessageField.discover).byteLength).toBe(0)
      }
    })

    it('given a DISCOVER with a namespace, a limit and a cookie, then all three are on the wire', async () => {
      const { client, point } = await pointAnswering(() => discoverAnswer([]))
      await client.discover(point.address, 'app', { limit: 5, cookie: Uint8Array.from([7]) })
      expect(fieldNumbers(embedded(point.requests[0], MessageField.discover))).toEqual([DiscoverField.ns, DiscoverField.limit, DiscoverField.cookie])
    })

    it('given an UNREGISTER, then type and ns are on the wire, and the removed id only when the client is told to send it', async () => {
      const plain = await pointAnswering(() => undefined)
      await plain.client.unregister(plain.point.address, 'app')
      const legacy = await pointAnswering(() => undefined, { legacyUnregisterId: true })
      await legacy.client.unregister(legacy.point.address, 'app')
      // UNREGISTER has no answer to wait for, so wait for the point to have read it
      await expect.poll(() => plain.point.requests.length + legacy.point.requests.length, UNANSWERED).toBe(2)

      expect(fieldValue(plain.point.requests[0], MessageField.type)).toBe(BigInt(MessageType.UNREGISTER))
      expect(fieldNumbers(embedded(plain.point.requests[0], MessageField.unregister))).toEqual([UnregisterField.ns])
      const legacyUnregister = embedded(legacy.point.requests[0], MessageField.unregister)
      expect(fieldValue(legacyUnregister, UnregisterField.id)).toEqual(legacy.node.peerId.toMultihash().bytes)
    })
  })
})
