/**
 * Clients of the pre-2020 schema (py-libp2p, berty's go) at our point: their
 * unsigned PeerInfo registrations are taken for the sender only and stored
 * marked unsigned, they get PeerInfo answers, spec clients never see an
 * unsigned registration, and caps, TTLs and pages hold alike. Real libp2p
 * connections throughout: what a connection said is remembered per
 * connection. The real py-libp2p is in test/interop.
 */
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createNode } from '../../src/cli/node.ts'
import { Message, discoverRequest, parseRegisterResponse, registerRequest, unregisterRequest } from '../../src/protocol/messages.ts'
import { encodePeerInfo, readRecordField } from '../../src/protocol/peer-info.ts'
import { rendezvousServer } from '../../src/server/index.ts'
import { MemoryRegistrationStore } from '../../src/server/store/memory-store.ts'
import { RENDEZVOUS_PROTOCOL } from '../../src/constants.ts'
import { UNANSWERED, startPoint, stopPoints } from '../fixtures/harness.ts'
import { newKey, signRecord } from '../fixtures/records.ts'
import { rawSession } from '../fixtures/session.ts'
import { MessageField, RegisterField, body, bytesField, varintField } from '../fixtures/wire.ts'
import type { TestPeer, TestPoint } from '../fixtures/harness.ts'
import type { RendezvousServerInit } from '../../src/server/index.ts'
import type { RawSession } from '../fixtures/session.ts'
import type { Libp2p, PrivateKey } from '@libp2p/interface'

const ADDRESS = '/ip4/127.0.0.1/tcp/4001'

function peerInfo (peer: TestPeer, addresses = [ADDRESS]): Uint8Array {
  return encodePeerInfo({ id: peer.peerId, multiaddrs: addresses.map(a => multiaddr(a)) })
}

/** REGISTER with a PeerInfo on `raw`; the granted ttl, or the named error */
async function registerPeerInfo (raw: RawSession, namespace: string, field: Uint8Array, ttl?: number): Promise<number | undefined> {
  return parseRegisterResponse(await raw.request(registerRequest(namespace, field, ttl)), 'peer-info')
}

/** What one DISCOVER answer holds, each entry read as whichever schema its field 2 is in */
async function discoverOn (raw: RawSession, namespace?: string, limit?: number, cookie?: Uint8Array): Promise<{ entries: Array<{ kind: string, peer?: string, addrs?: string[] }>, cookie?: Uint8Array }> {
  const answer = await raw.request(discoverRequest(namespace, limit, cookie))
  const response = answer.discoverResponse
  if (response?.status !== 'OK') throw new Error(`DISCOVER answered ${response?.status}: ${response?.statusText}`)
  return {
    cookie: response.cookie,
    entries: response.registrations.map(r => {
      const field = readRecordField(r.signedPeerRecord ?? new Uint8Array())
      return field.kind === 'peer-info' ? { kind: 'peer-info', peer: field.peer.id.toString(), addrs: field.peer.multiaddrs.map(String) } : { kind: field.kind }
    })
  }
}

async function startWithStore (carrier: 'tcp' | 'ws', init: RendezvousServerInit = {}): Promise<{ point: TestPoint, store: MemoryRegistrationStore }> {
  const store = new MemoryRegistrationStore()
  return { point: await startPoint(carrier, { ...init, store }), store }
}

async function stored (store: MemoryRegistrationStore, namespace?: string): Promise<Array<{ peer: string, unsigned: boolean }>> {
  return (await store.discover(namespace, 0n, 10_000, Date.now())).registrations.map(r => ({ peer: r.peerId, unsigned: r.unsigned === true }))
}

describe.each(['tcp', 'ws'] as const)('pre-2020 PeerInfo clients over %s', (carrier) => {
  afterEach(stopPoints)

  describe('REGISTER', () => {
    it('given the REGISTER py sends (no type, a PeerInfo of the sender), then it is granted and stored marked unsigned, as a canonical PeerInfo', async () => {
      const { point, store } = await startWithStore(carrier)
      const py = await point.peer()
      const raw = await py.session()
      const register = body(bytesField(RegisterField.ns, 'demo'), bytesField(RegisterField.signedPeerRecord, peerInfo(py)), varintField(RegisterField.ttl, 7200))
      const answer = await raw.request(bytesField(MessageField.register, register))
      expect(answer.registerResponse).toMatchObject({ status: 'OK', ttl: 7200n })

      const [registration] = (await store.discover('demo', 0n, 10, Date.now())).registrations
      expect(registration).toMatchObject({ peerId: py.peerId.toString(), unsigned: true, seq: 0n })
      expect(registration.signedPeerRecord).toEqual(peerInfo(py))
      expect(await point.server.getNamespaceStats()).toEqual(new Map([['demo', 1]]))
    })

    it('given a PeerInfo of another peer, then it is refused with E_NOT_AUTHORIZED and nothing is stored', async () => {
      const { point, store } = await startWithStore(carrier)
      const [mallory, alice] = [await point.peer(), await point.peer()]
      await expect(registerPeerInfo(await mallory.session(), 'app', peerInfo(alice)))
        .rejects.toMatchObject({ name: 'NotAuthorizedError', statusText: `the peer info is of ${alice.peerId}, not of the registering peer` })
      expect(await stored(store)).toEqual([])
    })

    it.each([
      { given: 'no id', field: () => body(bytesField(2, multiaddr(ADDRESS).bytes)), reason: 'peer info has no id' },
      { given: 'an id of garbage', field: () => body(bytesField(1, Uint8Array.from([1, 2, 3])), bytesField(2, multiaddr(ADDRESS).bytes)), reason: 'peer info id is not a peer id' },
      { given: 'an id of 10 KB', field: () => body(bytesField(1, new Uint8Array(10_000)), bytesField(2, multiaddr(ADDRESS).bytes)), reason: 'peer info id is 10000 bytes, longer than any peer id' },
      { given: 'an address of garbage', field: (peer: TestPeer) => body(bytesField(1, peer.peerId.toMultihash().bytes), bytesField(2, Uint8Array.from([0xff, 0xff]))), reason: 'peer info address 1 is not a multiaddr' },
      { given: 'addresses over 2048 bytes', field: (peer: TestPeer) => peerInfo(peer, Array.from({ length: 257 }, () => ADDRESS)), reason: 'peer info addresses are 2056 bytes, the limit is 2048' },
      { given: 'no address', field: (peer: TestPeer) => peerInfo(peer, []), reason: 'the peer info has no addresses' }
    ])('given a PeerInfo with $given, then it is refused with E_INVALID_PEER_INFO (101) saying so, and nothing is stored', async ({ field, reason }) => {
      const { point, store } = await startWithStore(carrier)
      const py = await point.peer()
      await expect(registerPeerInfo(await py.session(), 'app', field(py))).rejects.toMatchObject({ name: 'InvalidPeerInfoError', code: 101, statusText: reason })
      expect(await stored(store)).toEqual([])
    })

    it('given a PeerInfo without addresses at a point that allows empty records, then it is taken', async () => {
      const { point } = await startWithStore(carrier, { allowEmptyAddresses: true })
      const py = await point.peer()
      expect(await registerPeerInfo(await py.session(), 'app', peerInfo(py, []), 300)).toBe(300)
    })

    it('given TTLs, then the same rules hold as for signed records', async () => {
      const { point } = await startWithStore(carrier, { minTtl: 120, maxTtl: 3600, defaultTtl: 600 })
      const py = await point.peer()
      const raw = await py.session()
      await expect(registerPeerInfo(raw, 'app', peerInfo(py), 119)).rejects.toMatchObject({ name: 'InvalidTTLError' })
      await expect(registerPeerInfo(raw, 'app', peerInfo(py), 3601)).rejects.toMatchObject({ name: 'InvalidTTLError' })
      expect(await registerPeerInfo(raw, 'app', peerInfo(py))).toBe(600)
      expect(await registerPeerInfo(raw, 'app', peerInfo(py), 3600)).toBe(3600)
      // the pre-2020 ttl is an int64: a negative one is ten bytes of varint, far past any maximum
      const negative = body(bytesField(RegisterField.ns, 'app'), bytesField(RegisterField.signedPeerRecord, peerInfo(py)), varintField(RegisterField.ttl, 2n ** 64n - 1n))
      expect((await raw.request(bytesField(MessageField.register, negative))).registerResponse?.status).toBe('E_INVALID_TTL')
    })

    it('given the per-peer and total caps, then unsigned registrations count against them like signed ones', async () => {
      const { point } = await startWithStore(carrier, { maxRegistrationsPerPeer: 2, maxRegistrations: 3 })
      const [py, alice] = [await point.peer(), await point.peer()]
      const raw = await py.session()
      await registerPeerInfo(raw, 'a', peerInfo(py))
      await py.registerRecord('b', await signRecord(py.privateKey))
      await expect(registerPeerInfo(raw, 'c', peerInfo(py))).rejects.toMatchObject({ name: 'NotAuthorizedError' })
      // refreshing a held namespace is always allowed
      expect(await registerPeerInfo(raw, 'a', peerInfo(py), 300)).toBe(300)
      await alice.client.register(point.target, 'a', { ttl: 300 })
      await expect(registerPeerInfo(await alice.session(), 'b', peerInfo(alice))).rejects.toMatchObject({ name: 'UnavailableError' })
    })

    it('given a peer holds an unsigned registration, then a signed one replaces it; an unsigned one never replaces a signed one', async () => {
      const { point, store } = await startWithStore(carrier)
      const py = await point.peer()
      const raw = await py.session()
      await registerPeerInfo(raw, 'app', peerInfo(py))
      await py.registerRecord('app', await signRecord(py.privateKey, { seq: 5n }))
      expect(await stored(store)).toEqual([{ peer: py.peerId.toString(), unsigned: false }])
      await expect(registerPeerInfo(raw, 'app', peerInfo(py))).rejects.toMatchObject({ name: 'NotAuthorizedError', statusText: expect.stringMatching(/^a signed record of this peer is registered in app/) })
      expect(await stored(store)).toEqual([{ peer: py.peerId.toString(), unsigned: false }])
    })

    it('given a point that serves spec clients only, then a PeerInfo REGISTER is refused with 101, and its DISCOVER gets signed records', async () => {
      const { point, store } = await startWithStore(carrier, { servePeerInfoClients: false })
      const [py, alice] = [await point.peer(), await point.peer()]
      await alice.client.register(point.target, 'app', { ttl: 300 })
      const raw = await py.session()
      await expect(registerPeerInfo(raw, 'app', peerInfo(py))).rejects.toMatchObject({ name: 'InvalidPeerInfoError', statusText: 'this point takes signed peer records only, not an unsigned peer info' })
      expect(await stored(store)).toEqual([{ peer: alice.peerId.toString(), unsigned: false }])
      expect((await discoverOn(raw, 'app')).entries).toEqual([{ kind: 'envelope' }])
    })
  })

  it('given a legacy UNREGISTER, then the sender\'s own unsigned registration goes, and one naming another peer is ignored', async () => {
    const { point, store } = await startWithStore(carrier)
    const [py, other] = [await point.peer(), await point.peer()]
    await registerPeerInfo(await py.session(), 'app', peerInfo(py))
    await registerPeerInfo(await other.session(), 'app', peerInfo(other))
    const raw = await py.session()
    await raw.send(unregisterRequest('app', other.peerId.toMultihash().bytes))
    // answered after the UNREGISTER was handled, on the same stream
    expect((await discoverOn(raw, 'app')).entries).toHaveLength(2)
    await raw.send(unregisterRequest('app', py.peerId.toMultihash().bytes))
    await vi.waitFor(async () => { expect(await stored(store)).toEqual([{ peer: other.peerId.toString(), unsigned: true }]) }, UNANSWERED)
  })

  describe('DISCOVER', () => {
    /** alice and bob registered signed, py and eve unsigned, in that order of cursors: py, alice, eve, bob */
    async function mixed (carrierPoint: TestPoint): Promise<{ py: TestPeer, alice: TestPeer, eve: TestPeer, bob: TestPeer }> {
      const [py, alice, eve, bob] = [await carrierPoint.peer(), await carrierPoint.peer(), await carrierPoint.peer(), await carrierPoint.peer()]
      await registerPeerInfo(await py.session(), 'app', peerInfo(py, ['/ip4/10.0.0.1/tcp/1/p2p/' + py.peerId.toString()]))
      await alice.registerRecord('app', await signRecord(alice.privateKey, { multiaddrs: ['/ip4/10.0.0.2/tcp/2'] }))
      await registerPeerInfo(await eve.session(), 'app', peerInfo(eve))
      await bob.registerRecord('app', await signRecord(bob.privateKey, { multiaddrs: ['/ip4/10.0.0.4/tcp/4', '/ip4/10.0.0.4/tcp/5/ws'] }))
      return { py, alice, eve, bob }
    }

    it('given signed and unsigned registrations, then a spec client gets the signed ones and never an unsigned one', async () => {
      const { point } = await startWithStore(carrier)
      const { alice, bob } = await mixed(point)
      const reader = await point.peer()
      const result = await reader.client.discover(point.target, 'app')
      expect(result.registrations.map(r => r.peerId.toString())).toEqual([alice.peerId.toString(), bob.peerId.toString()])
      expect(result.dropped).toBe(0)
      expect((await reader.client.discover(point.target)).registrations).toHaveLength(2)
    })

    it('given a client that registered with a PeerInfo, then every stream of its connection is answered in PeerInfo, signed registrations with the record\'s id and addresses', async () => {
      const { point } = await startWithStore(carrier)
      const { py, alice, eve, bob } = await mixed(point)
      const expected = [
        { kind: 'peer-info', peer: py.peerId.toString(), addrs: [`/ip4/10.0.0.1/tcp/1/p2p/${py.peerId}`] },
        { kind: 'peer-info', peer: alice.peerId.toString(), addrs: ['/ip4/10.0.0.2/tcp/2'] },
        { kind: 'peer-info', peer: eve.peerId.toString(), addrs: [ADDRESS] },
        { kind: 'peer-info', peer: bob.peerId.toString(), addrs: ['/ip4/10.0.0.4/tcp/4', '/ip4/10.0.0.4/tcp/5/ws'] }
      ]
      // a new stream on the connection that registered
      expect((await discoverOn(await py.session(), 'app')).entries).toEqual(expected)
      expect((await discoverOn(await eve.session())).entries).toEqual(expected)
      // the signed ones' own connections read signed records
      expect((await discoverOn(await alice.session(), 'app')).entries).toEqual([{ kind: 'envelope' }, { kind: 'envelope' }])
    })

    for (const schema of ['signed-record', 'peer-info'] as const) {
      it(`given pages of two among unsigned ones, then a ${schema} client's pages are full until the last and hold each of its registrations once`, async () => {
        const { point } = await startWithStore(carrier)
        const peers = await Promise.all(Array.from({ length: 11 }, async () => point.peer()))
        const signed: string[] = []
        for (const [i, peer] of peers.entries()) {
          // unsigned, unsigned, signed, unsigned, ...: runs of unsigned between signed ones, at both ends
          if (i % 3 === 2) {
            await peer.registerRecord('app', await signRecord(peer.privateKey))
            signed.push(peer.peerId.toString())
          } else {
            await registerPeerInfo(await peer.session(), 'app', peerInfo(peer))
          }
        }
        const reader = await point.peer()
        const raw = await reader.session()
        if (schema === 'peer-info') await registerPeerInfo(raw, 'elsewhere', peerInfo(reader))
        const pages: string[][] = []
        let cookie: Uint8Array | undefined
        for (let round = 0; round < peers.length + 1; round++) {
          const page = await discoverOn(raw, 'app', 2, cookie)
          cookie = page.cookie
          if (page.entries.length === 0) break
          pages.push(page.entries.map(e => e.peer ?? e.kind))
        }
        expect(pages.slice(0, -1).every(page => page.length === 2)).toBe(true)
        expect(pages.flat()).toEqual(schema === 'peer-info' ? peers.map(p => p.peerId.toString()) : signed.map(() => 'envelope'))
      })
    }

    it('given a DISCOVER_SUBSCRIBE, then it gets berty\'s "no such subscription" answer, and the connection is answered in PeerInfo from then on', async () => {
      const { point } = await startWithStore(carrier)
      const [berty, alice] = [await point.peer(), await point.peer()]
      await alice.registerRecord('app', await signRecord(alice.privateKey, { multiaddrs: ['/ip4/10.0.0.2/tcp/2'] }))
      const raw = await berty.session()
      const answer = await raw.request({ type: Message.MessageType.DISCOVER_SUBSCRIBE, discoverSubscribe: { ns: 'app', supportedSubscriptionTypes: ['inmem'] } })
      expect(answer).toMatchObject({ type: 'DISCOVER_SUBSCRIBE_RESPONSE', discoverSubscribeResponse: { status: 'E_INTERNAL_ERROR' } })
      expect((await discoverOn(raw, 'app')).entries).toEqual([{ kind: 'peer-info', peer: alice.peerId.toString(), addrs: ['/ip4/10.0.0.2/tcp/2'] }])
    })

    it('given a connection that registered with a PeerInfo and then with a signed record, then it is answered in signed records again', async () => {
      const { point } = await startWithStore(carrier)
      const peer = await point.peer()
      const raw = await peer.session()
      await registerPeerInfo(raw, 'app', peerInfo(peer))
      expect((await discoverOn(raw, 'app')).entries[0].kind).toBe('peer-info')
      parseRegisterResponse(await raw.request(registerRequest('other', await signRecord(peer.privateKey))))
      expect((await discoverOn(raw)).entries).toEqual([{ kind: 'envelope' }])
    })
  })
})

describe('a client that only discovers, known by the agent it announces in identify', () => {
  const nodes: Libp2p[] = []
  afterEach(async () => { await Promise.all(nodes.splice(0).reverse().map(async node => node.stop())) })

  async function client (options: { userAgent?: string, identify?: boolean, privateKey?: PrivateKey } = {}): Promise<Libp2p> {
    const services: Record<string, (components: any) => unknown> = options.identify === false ? {} : { identify: identify() }
    const node = await createLibp2p({
      ...(options.userAgent != null ? { nodeInfo: { userAgent: options.userAgent } } : {}),
      ...(options.privateKey != null ? { privateKey: options.privateKey } : {}),
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services
    })
    nodes.push(node)
    return node
  }

  it.each([
    { given: 'py-libp2p/0.7.0', userAgent: 'py-libp2p/0.7.0', identify: true, schema: 'peer-info' },
    { given: 'js-libp2p', userAgent: undefined, identify: true, schema: 'envelope' },
    { given: 'no identify at all', userAgent: undefined, identify: false, schema: 'envelope' }
  ])('given $given, then its first DISCOVER on a fresh connection, which can beat identify, is answered in that schema', async ({ userAgent, identify, schema }) => {
    // the command line's own node with the point in it: it runs identify
    const point = await createNode({ host: '127.0.0.1', port: 0, wsPort: 0 }, { rendezvous: rendezvousServer() })
    nodes.push(point)
    const address = point.getMultiaddrs()[0]
    // one signed registration, so that the answer shows which schema it is in
    const key = await newKey()
    const alice = rawSession(await (await client({ privateKey: key })).dialProtocol(address, RENDEZVOUS_PROTOCOL))
    parseRegisterResponse(await alice.request(registerRequest('app', await signRecord(key))))
    await alice.close()

    const reader = rawSession(await (await client({ userAgent, identify })).dialProtocol(address, RENDEZVOUS_PROTOCOL))
    expect((await discoverOn(reader, 'app')).entries.map(e => e.kind)).toEqual([schema])
    await reader.close()
  })
})
