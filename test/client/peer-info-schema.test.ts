/**
 * The client at points of the pre-2020 schema (py-libp2p, berty's go), with
 * and without `uncertifiedPeers: peerInfoSchema()`: a real libp2p node whose
 * `/rendezvous/1.0.0` handler answers as py's point answers (checked against
 * the real one in `test/interop/py-point.test.ts`), and DISCOVER pages
 * holding PeerInfos built by hand, hostile ones included.
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { peerInfoSchema } from '../../src/client/index.ts'
import { encodePeerInfo, readRecordField } from '../../src/protocol/peer-info.ts'
import { UNANSWERED } from '../fixtures/harness.ts'
import { createClient, createScriptedPoint, stopNodes } from '../fixtures/nodes.ts'
import { newKey, signRecord } from '../fixtures/records.ts'
import { DiscoverResponseField, MessageField, MessageType, RegisterField, RegisterResponseField, UnregisterField, body, bytesField, embedded, fieldNumbers, fieldValue, varintField } from '../fixtures/wire.ts'
import type { RendezvousClientInit } from '../../src/client/api.ts'
import type { Answer, ClientNode, ScriptedPointNode } from '../fixtures/nodes.ts'
import type { PeerId } from '@libp2p/interface'

const OPT_IN: RendezvousClientInit = { uncertifiedPeers: peerInfoSchema() }

function registerAnswer (...fields: Uint8Array[]): Uint8Array {
  return body(varintField(MessageField.type, MessageType.REGISTER_RESPONSE), bytesField(MessageField.registerResponse, body(...fields)))
}

function discoverAnswer (records: Uint8Array[]): Uint8Array {
  const entries = records.map(record => bytesField(DiscoverResponseField.registrations, body(bytesField(RegisterField.signedPeerRecord, record), varintField(RegisterField.ttl, 600))))
  return body(varintField(MessageField.type, MessageType.DISCOVER_RESPONSE), bytesField(MessageField.discoverResponse, body(...entries)))
}

/** Field 2 of the REGISTER in `request` */
function registered (request: Uint8Array): Uint8Array {
  return fieldValue(embedded(request, MessageField.register), RegisterField.signedPeerRecord) as Uint8Array
}

/**
 * What py's point answers (libp2p/discovery/rendezvous/service.py): it reads
 * field 2 as a PeerInfo, so a signed envelope's public key becomes an id that
 * is not the sender's; a PeerInfo with an address over 2048 bytes is 101
 */
const pyPoint: Answer = request => {
  if (!fieldNumbers(request).includes(MessageField.register)) return discoverAnswer([])
  const field = readRecordField(registered(request), { maxAddressBytes: Infinity })
  if (field.kind === 'peer-info' && field.peer.multiaddrs.every(ma => ma.bytes.byteLength <= 2048)) {
    return registerAnswer(varintField(RegisterResponseField.ttl, 7200))
  }
  return field.kind === 'envelope'
    ? registerAnswer(varintField(RegisterResponseField.status, 200), bytesField(RegisterResponseField.statusText, 'Peer can only register itself'))
    : registerAnswer(varintField(RegisterResponseField.status, 101), bytesField(RegisterResponseField.statusText, 'Address too long'))
}

/** What a spec point answers every REGISTER */
const specPoint: Answer = () => registerAnswer(varintField(RegisterResponseField.ttl, 7200))

async function someone (addresses = ['/ip4/192.0.2.1/tcp/4001']): Promise<{ id: PeerId, key: Awaited<ReturnType<typeof newKey>>, peerInfo: Uint8Array }> {
  const key = await newKey()
  const id = peerIdFromPrivateKey(key)
  return { id, key, peerInfo: encodePeerInfo({ id, multiaddrs: addresses.map(a => multiaddr(a)) }) }
}

describe('the client at points of the pre-2020 schema', () => {
  afterEach(stopNodes)

  async function clientAt (answer: Answer, init: RendezvousClientInit): Promise<ClientNode & { point: ScriptedPointNode }> {
    const point = await createScriptedPoint(answer)
    return { ...await createClient(init), point }
  }

  describe('registering', () => {
    it('given uncertifiedPeers and a point that refuses our signed record as py does, then the REGISTER goes again as a PeerInfo of our id and addresses, and from then on only so', async () => {
      const { client, node, point } = await clientAt(pyPoint, OPT_IN)
      expect(await client.register(point.address, 'app', { ttl: 7200 })).toBe(7200)
      expect(await client.register(point.address, 'other', { ttl: 7200 })).toBe(7200)

      const kinds = point.requests.map(r => readRecordField(registered(r)).kind)
      expect(kinds).toEqual(['envelope', 'peer-info', 'peer-info'])
      const sent = readRecordField(registered(point.requests[1]))
      if (sent.kind !== 'peer-info') throw new Error(sent.kind)
      expect(sent.peer.id.equals(node.peerId)).toBe(true)
      // the addresses of our signed record, which leave out /p2p/<us>
      expect(sent.peer.multiaddrs.map(String)).toEqual(node.getMultiaddrs().map(ma => ma.toString().replace(`/p2p/${node.peerId}`, '')))
    })

    it('given uncertifiedPeers and a point that refuses our signed record as berty\'s go does (101 "bad peer id", from its source), then the REGISTER goes again as a PeerInfo', async () => {
      const berty: Answer = request => readRecordField(registered(request)).kind === 'peer-info'
        ? registerAnswer(varintField(RegisterResponseField.ttl, 7200))
        : registerAnswer(varintField(RegisterResponseField.status, 101), bytesField(RegisterResponseField.statusText, 'bad peer id'))
      const { client, point } = await clientAt(berty, OPT_IN)
      expect(await client.register(point.address, 'app')).toBe(7200)
      expect(point.requests.map(r => readRecordField(registered(r)).kind)).toEqual(['envelope', 'peer-info'])
    })

    it('given uncertifiedPeers, then what one point speaks is remembered for it alone: a spec point beside a py one still gets signed records', async () => {
      const py = await createScriptedPoint(pyPoint)
      const spec = await createScriptedPoint(specPoint)
      const { client } = await createClient(OPT_IN)
      await client.register(py.address, 'app')
      await client.register(spec.address, 'app')
      await client.register(spec.address, 'app')
      expect(spec.requests.map(r => readRecordField(registered(r)).kind)).toEqual(['envelope', 'envelope'])
      expect(py.requests.map(r => readRecordField(registered(r)).kind)).toEqual(['envelope', 'peer-info'])
    })

    it('given uncertifiedPeers, then an UNREGISTER carries our id only at a point known to speak the pre-2020 schema', async () => {
      const py = await createScriptedPoint(pyPoint)
      const spec = await createScriptedPoint(specPoint)
      const { client, node } = await createClient(OPT_IN)
      await client.register(py.address, 'app')
      await client.unregister(py.address, 'app')
      await client.unregister(spec.address, 'app')
      await expect.poll(() => py.requests.length + spec.requests.length, UNANSWERED).toBe(4)
      expect(fieldValue(embedded(py.requests[2], MessageField.unregister), UnregisterField.id)).toEqual(node.peerId.toMultihash().bytes)
      expect(fieldNumbers(embedded(spec.requests[0], MessageField.unregister))).toEqual([UnregisterField.ns])
    })

    it('given uncertifiedPeers and a PeerInfo the point refuses with 101, then the error is py\'s InvalidPeerInfoError, still an InvalidSignedPeerRecordError', async () => {
      // as py refuses a PeerInfo whose address is over 2048 bytes
      const refusing = await clientAt(request => readRecordField(registered(request)).kind === 'envelope'
        ? pyPoint(request)
        : registerAnswer(varintField(RegisterResponseField.status, 101), bytesField(RegisterResponseField.statusText, 'Address too long')), OPT_IN)
      const err = await refusing.client.register(refusing.point.address, 'app').catch((e: Error) => e)
      expect(err).toMatchObject({ name: 'InvalidPeerInfoError', code: 101, statusText: 'Address too long', message: 'E_INVALID_PEER_INFO: Address too long' })
      expect(err instanceof Error && 'status' in err && err.status).toBe('E_INVALID_SIGNED_PEER_RECORD')
      expect(refusing.point.requests.map(r => readRecordField(registered(r)).kind)).toEqual(['envelope', 'peer-info'])
    })

    it('given no uncertifiedPeers, then py\'s refusal stands (NotAuthorizedError) and no PeerInfo is ever sent', async () => {
      const { client, point } = await clientAt(pyPoint, {})
      await expect(client.register(point.address, 'app')).rejects.toMatchObject({ name: 'NotAuthorizedError', statusText: 'Peer can only register itself' })
      await expect(client.register(point.address, 'app')).rejects.toMatchObject({ name: 'NotAuthorizedError' })
      expect(point.requests.map(r => readRecordField(registered(r)).kind)).toEqual(['envelope', 'envelope'])
    })

    it('given uncertifiedPeers and a spec point refusing for another reason, then that error stands and nothing goes again', async () => {
      const { client, point } = await clientAt(() => registerAnswer(varintField(RegisterResponseField.status, 200), bytesField(RegisterResponseField.statusText, 'too many registrations')), OPT_IN)
      await expect(client.register(point.address, 'app')).rejects.toMatchObject({ name: 'NotAuthorizedError', statusText: 'too many registrations' })
      expect(point.requests).toHaveLength(1)
    })
  })

  describe('discovering', () => {
    it('given PeerInfos on a page, then with uncertifiedPeers they come back as registrations with certified false; without, they are dropped and counted', async () => {
      const alice = await someone(['/ip4/192.0.2.1/tcp/4001', '/ip4/192.0.2.1/udp/4001/quic-v1'])
      const bob = await newKey()
      const bobRecord = await signRecord(bob)
      const answer: Answer = () => discoverAnswer([alice.peerInfo, bobRecord])

      const opted = await clientAt(answer, OPT_IN)
      const page = await opted.client.discover(opted.point.address, 'app')
      expect(page.registrations.map(r => [r.peerId.toString(), r.certified, r.multiaddrs.map(String), r.seq, r.ttl])).toEqual([
        [peerIdFromPrivateKey(bob).toString(), true, ['/ip4/127.0.0.1/tcp/4001'], 1n, 600],
        [alice.id.toString(), false, ['/ip4/192.0.2.1/tcp/4001', '/ip4/192.0.2.1/udp/4001/quic-v1'], 0n, 600]
      ])
      expect(page.dropped).toBe(0)

      const strict = await clientAt(answer, {})
      const strictPage = await strict.client.discover(strict.point.address, 'app')
      expect(strictPage.registrations.map(r => [r.peerId.toString(), r.certified])).toEqual([[peerIdFromPrivateKey(bob).toString(), true]])
      expect(strictPage.dropped).toBe(1)
    })

    it('given a PeerInfo and a valid signed record of the same peer, then the signed record is the one returned', async () => {
      const carol = await someone(['/ip4/203.0.113.7/tcp/666'])
      const record = await signRecord(carol.key)
      const { client, point } = await clientAt(() => discoverAnswer([carol.peerInfo, record]), OPT_IN)
      const page = await client.discover(point.address, 'app')
      expect(page.registrations.map(r => [r.certified, r.multiaddrs.map(String)])).toEqual([[true, ['/ip4/127.0.0.1/tcp/4001']]])
      expect(page.dropped).toBe(1)
    })

    it('given a PeerInfo beside a forged record of the same peer, then the forgery is dropped and the PeerInfo stays uncertified', async () => {
      const carol = await someone()
      const forged = await signRecord(await newKey(), { peerId: carol.id, multiaddrs: ['/ip4/203.0.113.7/tcp/666'] })
      const { client, point } = await clientAt(() => discoverAnswer([forged, carol.peerInfo]), OPT_IN)
      const page = await client.discover(point.address, 'app')
      expect(page.registrations.map(r => [r.peerId.toString(), r.certified, r.multiaddrs.map(String)])).toEqual([[carol.id.toString(), false, ['/ip4/192.0.2.1/tcp/4001']]])
      expect(page.dropped).toBe(1)
    })

    it('given hostile PeerInfos (no id, two ids, garbage id, an id longer than any peer id, garbage and oversized addresses, other fields), then each is dropped and counted, and good entries around them stay', async () => {
      const good = await someone()
      const other = await someone()
      const address = multiaddr('/ip4/192.0.2.1/tcp/1').bytes
      const id = good.id.toMultihash().bytes
      const hostile = [
        body(bytesField(2, address)),
        body(bytesField(1, id), bytesField(1, other.id.toMultihash().bytes), bytesField(2, address)),
        body(bytesField(1, Uint8Array.from([1, 2, 3])), bytesField(2, address)),
        body(bytesField(1, new Uint8Array(65).fill(0x12)), bytesField(2, address)),
        body(bytesField(1, id), bytesField(2, Uint8Array.from([0xff, 0xff, 0xff]))),
        body(bytesField(1, id), ...Array.from({ length: 3 }, () => bytesField(2, multiaddr(`/dns4/${'a'.repeat(250)}/tcp/1`).bytes)), ...Array.from({ length: 8 }, () => bytesField(2, multiaddr(`/dns4/${'b'.repeat(250)}/tcp/1`).bytes))),
        body(bytesField(1, id), varintField(3, 1)),
        new Uint8Array(70_000).fill(0x0a)
      ]
      const { client, point } = await clientAt(() => discoverAnswer([...hostile, other.peerInfo]), OPT_IN)
      const page = await client.discover(point.address, 'app')
      expect(page.registrations.map(r => [r.peerId.toString(), r.certified])).toEqual([[other.id.toString(), false]])
      expect(page.dropped).toBe(hostile.length)
    })

    it('given two PeerInfos of one peer on a page, then the first is returned and the second counted as dropped', async () => {
      const dave = await someone(['/ip4/192.0.2.1/tcp/1'])
      const again = encodePeerInfo({ id: dave.id, multiaddrs: [multiaddr('/ip4/192.0.2.2/tcp/2')] })
      const { client, point } = await clientAt(() => discoverAnswer([dave.peerInfo, again]), OPT_IN)
      const page = await client.discover(point.address, 'app')
      expect(page.registrations.map(r => r.multiaddrs.map(String))).toEqual([['/ip4/192.0.2.1/tcp/1']])
      expect(page.dropped).toBe(1)
    })
  })
})
