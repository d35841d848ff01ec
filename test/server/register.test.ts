import { afterEach, describe, it, expect, vi } from 'vitest'
import { MAX_TTL } from '../../src/constants.ts'
import { Message } from '../../src/protocol/messages.ts'
import { CARRIERS, UNANSWERED, startPoint, stopPoints } from '../fixtures/harness.ts'
import { manualClock } from '../fixtures/clock.ts'
import { LEGACY_ROUTING_STATE, newKey, signRecord, tamper } from '../fixtures/records.ts'
import type { TestPeer, TestPoint } from '../fixtures/harness.ts'

async function discoverPeers (point: TestPoint, asker: TestPeer, namespace: string): Promise<string[]> {
  const { registrations } = await asker.client.discover(point.target, namespace)
  return registrations.map(r => r.peerId.toString())
}

describe.each(CARRIERS)('REGISTER over %s', (carrier) => {
  afterEach(stopPoints)

  describe('namespace', () => {
    it.each([
      ['255 ASCII bytes', 'a'.repeat(255)],
      ['255 bytes in 128 characters', 'é'.repeat(127) + 'a'],
      ['a single byte', 'x']
    ])('given a namespace of %s, then it is accepted', async (_, namespace) => {
      const point = await startPoint(carrier)
      const alice = await point.peer()
      expect(await alice.client.register(point.target, namespace, { ttl: 300 })).toBe(300)
      expect(await discoverPeers(point, alice, namespace)).toEqual([alice.peerId.toString()])
    })

    it.each([
      ['256 ASCII bytes', 'a'.repeat(256)],
      ['256 bytes in only 128 characters', 'é'.repeat(128)],
      ['no bytes at all', '']
    ])('given a namespace of %s, then it is refused with E_INVALID_NAMESPACE', async (_, namespace) => {
      const point = await startPoint(carrier)
      const alice = await point.peer()
      await expect(alice.client.register(point.target, namespace, { ttl: 300 })).rejects.toMatchObject({ name: 'InvalidNamespaceError', status: 'E_INVALID_NAMESPACE', code: 100 })
    })

    it('given a REGISTER with no namespace field, then it is refused with E_INVALID_NAMESPACE', async () => {
      const point = await startPoint(carrier)
      const alice = await point.peer()
      const raw = await alice.session()
      const response = await raw.request({ type: Message.MessageType.REGISTER, register: { signedPeerRecord: await signRecord(alice.privateKey) as Uint8Array<ArrayBuffer> } })
      expect(response.registerResponse?.status).toBe(Message.ResponseStatus.E_INVALID_NAMESPACE)
    })

    it('given a point with a shorter namespace limit, then it applies that limit', async () => {
      const point = await startPoint(carrier, { maxNamespaceLength: 4 })
      const alice = await point.peer()
      await alice.client.register(point.target, 'four', { ttl: 300 })
      await expect(alice.client.register(point.target, 'fives', { ttl: 300 })).rejects.toHaveProperty('name', 'InvalidNamespaceError')
    })
  })

  describe('signed peer record', () => {
    it('given a valid record of another peer, then it is refused with E_NOT_AUTHORIZED and nothing is registered', async () => {
      const point = await startPoint(carrier)
      const alice = await point.peer()
      const bobsRecord = await signRecord(await newKey())
      await expect(alice.registerRecord('app', bobsRecord, 300)).rejects.toMatchObject({ name: 'NotAuthorizedError', status: 'E_NOT_AUTHORIZED', code: 200 })
      expect(await discoverPeers(point, alice, 'app')).toEqual([])
    })

    it.each([
      ['signed by a key other than the record\'s peer', async (peer: TestPeer) => signRecord(await newKey(), { peerId: peer.peerId })],
      ['tampered with after signing', async (peer: TestPeer) => tamper(await signRecord(peer.privateKey))],
      ['signed for another domain', async (peer: TestPeer) => signRecord(peer.privateKey, { domain: 'libp2p-custom-record' })],
      ['not an envelope at all', async () => Uint8Array.from([1, 2, 3])],
      ['empty', async () => new Uint8Array()]
    ])('given the peer\'s own record %s, then it is refused with E_INVALID_SIGNED_PEER_RECORD', async (_, make) => {
      const point = await startPoint(carrier)
      const alice = await point.peer()
      await expect(alice.registerRecord('app', await make(alice), 300)).rejects.toMatchObject({ name: 'InvalidSignedPeerRecordError', status: 'E_INVALID_SIGNED_PEER_RECORD', code: 101 })
      expect(await discoverPeers(point, alice, 'app')).toEqual([])
    })

    it('given a record signed under rust-libp2p\'s legacy domain, then it is accepted unless the point refuses legacy records', async () => {
      const lenient = await startPoint(carrier)
      const alice = await lenient.peer()
      const legacy = await signRecord(alice.privateKey, LEGACY_ROUTING_STATE)
      expect(await alice.registerRecord('app', legacy, 300)).toBe(300)

      const strict = await startPoint(carrier, { acceptLegacyRecords: false })
      const bob = await strict.peer()
      await expect(bob.registerRecord('app', await signRecord(bob.privateKey, LEGACY_ROUTING_STATE), 300)).rejects.toHaveProperty('name', 'InvalidSignedPeerRecordError')
    })

    it('given a record without addresses, then it is refused, unless the point allows empty records', async () => {
      const noAddresses = { addressFilter: () => false, allowEmptyAddresses: true }
      const strict = await startPoint(carrier)
      const alice = await strict.peer(noAddresses)
      await expect(alice.client.register(strict.target, 'app', { ttl: 300 })).rejects.toMatchObject({ name: 'InvalidSignedPeerRecordError', statusText: 'the record has no addresses' })

      const lenient = await startPoint(carrier, { allowEmptyAddresses: true })
      const bob = await lenient.peer(noAddresses)
      await bob.client.register(lenient.target, 'app', { ttl: 300 })
      const { registrations } = await bob.client.discover(lenient.target, 'app')
      expect(registrations).toHaveLength(1)
      expect(registrations[0].multiaddrs).toEqual([])
    })
  })

  describe('ttl', () => {
    it('given no ttl, then the point grants two hours and says so', async () => {
      const point = await startPoint(carrier)
      const alice = await point.peer()
      // registerRecord reports only what the point wrote, with no fallback of the client's
      expect(await alice.registerRecord('app', await signRecord(alice.privateKey))).toBe(2 * 60 * 60)
    })

    it('given no ttl at a point with another default, then that default is granted', async () => {
      const point = await startPoint(carrier, { defaultTtl: 600 })
      const alice = await point.peer()
      expect(await alice.client.register(point.target, 'app')).toBe(600)
    })

    it.each([
      ['0', 0],
      ['one below the default minimum of 120 s', 119],
      ['one above 72 h', MAX_TTL + 1],
      ['2^53 - 1', Number.MAX_SAFE_INTEGER]
    ])('given a ttl of %s, then it is refused with E_INVALID_TTL', async (_, ttl) => {
      const point = await startPoint(carrier)
      const alice = await point.peer()
      await expect(alice.registerRecord('app', await signRecord(alice.privateKey), ttl)).rejects.toMatchObject({ name: 'InvalidTTLError', status: 'E_INVALID_TTL', code: 102 })
    })

    it('given the largest uint64 as ttl, then it is refused with E_INVALID_TTL rather than wrapped around', async () => {
      const point = await startPoint(carrier)
      const alice = await point.peer()
      const raw = await alice.session()
      const response = await raw.request({
        type: Message.MessageType.REGISTER,
        register: { ns: 'app', signedPeerRecord: await signRecord(alice.privateKey) as Uint8Array<ArrayBuffer>, ttl: 2n ** 64n - 1n }
      })
      expect(response.registerResponse?.status).toBe(Message.ResponseStatus.E_INVALID_TTL)
    })

    it('given the default bounds exactly, then both are accepted', async () => {
      const point = await startPoint(carrier)
      const alice = await point.peer()
      expect(await alice.client.register(point.target, 'short', { ttl: 120 })).toBe(120)
      expect(await alice.client.register(point.target, 'long', { ttl: MAX_TTL })).toBe(MAX_TTL)
    })

    it('given a point configured with its own bounds, then those bounds apply', async () => {
      const point = await startPoint(carrier, { minTtl: 10, maxTtl: 60, defaultTtl: 30 })
      const alice = await point.peer()
      expect(await alice.client.register(point.target, 'app', { ttl: 10 })).toBe(10)
      expect(await alice.client.register(point.target, 'app', { ttl: 60 })).toBe(60)
      await expect(alice.client.register(point.target, 'app', { ttl: 9 })).rejects.toHaveProperty('name', 'InvalidTTLError')
      await expect(alice.client.register(point.target, 'app', { ttl: 61 })).rejects.toHaveProperty('name', 'InvalidTTLError')
    })
  })

  describe('re-registration', () => {
    it('given a peer registers again, then it holds one registration with the new ttl', async () => {
      const clock = manualClock()
      const point = await startPoint(carrier, { now: clock.now })
      const alice = await point.peer()
      await alice.client.register(point.target, 'app', { ttl: 300 })
      clock.advance(100_000)
      await alice.client.register(point.target, 'app', { ttl: 600 })
      const { registrations } = await alice.client.discover(point.target, 'app')
      expect(registrations.map(r => [r.peerId.toString(), r.ttl])).toEqual([[alice.peerId.toString(), 600]])
      expect(await point.server.getNamespaceStats()).toEqual(new Map([['app', 1]]))
    })

    it('given a record older than the registered one, then it is refused and the newer one stays', async () => {
      const point = await startPoint(carrier)
      const alice = await point.peer()
      await alice.registerRecord('app', await signRecord(alice.privateKey, { seq: 10n, multiaddrs: ['/ip4/10.0.0.1/tcp/10'] }), 300)
      await expect(alice.registerRecord('app', await signRecord(alice.privateKey, { seq: 9n, multiaddrs: ['/ip4/10.0.0.1/tcp/9'] }), 300))
        .rejects.toMatchObject({ name: 'InvalidSignedPeerRecordError', status: 'E_INVALID_SIGNED_PEER_RECORD' })
      const { registrations } = await alice.client.discover(point.target, 'app')
      expect(registrations.map(r => [r.seq, r.multiaddrs.map(String)])).toEqual([[10n, ['/ip4/10.0.0.1/tcp/10']]])
    })

    it('given a record with the same sequence number, then it replaces the registration', async () => {
      const point = await startPoint(carrier)
      const alice = await point.peer()
      const record = await signRecord(alice.privateKey, { seq: 10n })
      await alice.registerRecord('app', record, 300)
      expect(await alice.registerRecord('app', record, 900)).toBe(900)
    })
  })

  describe('limits', () => {
    it('given a peer at its registration limit, then a new namespace is refused with E_NOT_AUTHORIZED, a refresh is not, and unregistering frees a place', async () => {
      const point = await startPoint(carrier, { maxRegistrationsPerPeer: 2 })
      const alice = await point.peer()
      await alice.client.register(point.target, 'one', { ttl: 300 })
      await alice.client.register(point.target, 'two', { ttl: 300 })
      await expect(alice.client.register(point.target, 'three', { ttl: 300 })).rejects.toMatchObject({ name: 'NotAuthorizedError', status: 'E_NOT_AUTHORIZED' })
      expect(await alice.client.register(point.target, 'two', { ttl: 600 })).toBe(600)

      await alice.client.unregister(point.target, 'one')
      await vi.waitFor(async () => { expect(await point.server.getNamespaceStats()).toEqual(new Map([['two', 1]])) }, UNANSWERED)
      expect(await alice.client.register(point.target, 'three', { ttl: 300 })).toBe(300)
    })

    it('given another peer at its limit, then this peer is not affected', async () => {
      const point = await startPoint(carrier, { maxRegistrationsPerPeer: 1 })
      const alice = await point.peer()
      const bob = await point.peer()
      await alice.client.register(point.target, 'one', { ttl: 300 })
      expect(await bob.client.register(point.target, 'one', { ttl: 300 })).toBe(300)
    })

    it('given a full point, then a new registration is refused with E_UNAVAILABLE until one expires', async () => {
      const clock = manualClock()
      const point = await startPoint(carrier, { maxRegistrations: 2, now: clock.now })
      const [alice, bob, carol] = [await point.peer(), await point.peer(), await point.peer()]
      await alice.client.register(point.target, 'app', { ttl: 300 })
      await bob.client.register(point.target, 'app', { ttl: 600 })
      await expect(carol.client.register(point.target, 'app', { ttl: 300 })).rejects.toMatchObject({ name: 'UnavailableError', status: 'E_UNAVAILABLE', code: 400 })
      // a refresh does not add to the total
      expect(await alice.client.register(point.target, 'app', { ttl: 300 })).toBe(300)

      clock.advance(300_000)
      expect(await carol.client.register(point.target, 'app', { ttl: 300 })).toBe(300)
      expect((await discoverPeers(point, carol, 'app')).sort()).toEqual([bob.peerId.toString(), carol.peerId.toString()].sort())
    })
  })
})
