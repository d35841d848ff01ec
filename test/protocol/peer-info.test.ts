/**
 * Register field 2 read both ways: signed envelopes and pre-2020 PeerInfo,
 * told apart by their bytes alone, and hostile shapes of each. The frame
 * py-libp2p 0.7 sends is the one captured from a real py-libp2p client.
 */
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { MAX_RECORD_ADDRESS_BYTES } from '../../src/constants.ts'
import { MAX_PEER_ID_BYTES, encodePeerInfo, peerInfoOfVerifiedRecord, readRecordField } from '../../src/protocol/peer-info.ts'
import { Message, parseRequest } from '../../src/protocol/messages.ts'
import { newKey, signRecord } from '../fixtures/records.ts'
import { body, bytesField, readFields, varint, varintField } from '../fixtures/wire.ts'
import type { RecordField } from '../../src/protocol/peer-info.ts'

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s/g, ''), 'hex'))

/** A REGISTER frame body exactly as py-libp2p 0.7's RendezvousClient sent it: no type (REGISTER is proto3's zero), ns "demo", ttl 7200 */
const PY_REGISTER = hex(`
  1266 0a0464656d6f
  125b 0a26 002408011220f523ab1d1e69ae9ff4a3a7ff8939072e575a630c3679a2acaa67d41cfb9c8098
       1231 047f000001068ad1a503 26 002408011220f523ab1d1e69ae9ff4a3a7ff8939072e575a630c3679a2acaa67d41cfb9c8098
  18a038`)
const PY_PEER = '12D3KooWSKHbkwsLiaGFfWwbPZqUmsFzgac6WGeMKD96NBMpUCZd'

const ID = 1
const ADDR = 2
const someId = peerIdFromString(PY_PEER).toMultihash().bytes
const tcpAddress = multiaddr('/ip4/127.0.0.1/tcp/4001').bytes

/** A PeerInfo body from fields written by hand */
function peerInfo (...fields: Array<[number, Uint8Array]>): Uint8Array {
  return body(...fields.map(([field, value]) => bytesField(field, value)))
}

/** `count` address fields of 8 bytes each */
function addresses (count: number): Array<[number, Uint8Array]> {
  return Array.from({ length: count }, () => [ADDR, tcpAddress])
}

function reason (field: RecordField): string | undefined {
  return field.kind === 'bad-peer-info' ? field.reason : undefined
}

describe('reading Register field 2', () => {
  it('given the REGISTER py-libp2p 0.7 sends, then it is a REGISTER whose PeerInfo holds py\'s id and address', () => {
    const request = parseRequest(Message.decode(PY_REGISTER))
    expect(request).toMatchObject({ type: 'REGISTER', namespace: 'demo', ttl: 7200 })
    const record = request?.type === 'REGISTER' ? request.record : undefined
    expect(record?.kind).toBe('peer-info')
    if (record?.kind !== 'peer-info') return
    expect(record.peer.id.toString()).toBe(PY_PEER)
    expect(record.peer.multiaddrs.map(String)).toEqual([`/ip4/127.0.0.1/tcp/35537/p2p/${PY_PEER}`])
    // what py sent is already canonical, so it is kept byte for byte
    const register = readFields(PY_REGISTER)[0].value as Uint8Array
    expect(record.bytes).toEqual(readFields(register)[1].value)
  })

  it('given a signed envelope, then it goes to verification, whoever signed it and whatever it holds', async () => {
    const key = await newKey()
    expect(readRecordField(await signRecord(key))).toEqual({ kind: 'envelope' })
    expect(readRecordField(await signRecord(key, { multiaddrs: [] }))).toEqual({ kind: 'envelope' })
    expect(readRecordField(await signRecord(key, { payload: Uint8Array.from([1, 2, 3]) }))).toEqual({ kind: 'envelope' })
  })

  it('given an envelope stripped of its payload and signature, then it is no PeerInfo either: its public key is no peer id', async () => {
    const envelope = readFields(await signRecord(await newKey()))
    const stripped = body(...envelope.filter(f => f.field <= 2).map(f => bytesField(f.field, f.value as Uint8Array)))
    expect(readRecordField(stripped)).toEqual({ kind: 'bad-peer-info', reason: 'peer info id is not a peer id' })
  })

  it.each([
    ['not protobuf at all', hex('ffffffff')],
    ['a field of another number', body(bytesField(ID, someId), bytesField(3, tcpAddress))],
    ['an id as a varint', body(varintField(ID, 5))],
    ['an address cut short', body(bytesField(ID, someId), varint(0x12), varint(50), tcpAddress)],
    ['a length prefix that never ends', body(bytesField(ID, someId), varint(0x12), hex('ffffffffffff'))]
  ])('given %s, then it is not read as a PeerInfo, so only signature verification could accept it (and it cannot)', (_, bytes) => {
    expect(readRecordField(bytes)).toEqual({ kind: 'envelope' })
  })

  it('given random bytes, then none is ever read as a PeerInfo', () => {
    let seed = 7
    const random = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % 256 }
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: 1 + (i % 120) }, random)
      expect(readRecordField(bytes).kind).not.toBe('peer-info')
    }
  })

  it.each([
    { given: 'no id', bytes: peerInfo([ADDR, tcpAddress]), reason: 'peer info has no id' },
    { given: 'nothing at all', bytes: new Uint8Array(), reason: 'peer info has no id' },
    { given: 'two ids', bytes: peerInfo([ID, someId], [ID, someId], [ADDR, tcpAddress]), reason: 'peer info has 2 ids' },
    { given: 'an id of garbage', bytes: peerInfo([ID, hex('010203')], [ADDR, tcpAddress]), reason: 'peer info id is not a peer id' },
    { given: 'an empty id', bytes: peerInfo([ID, new Uint8Array()], [ADDR, tcpAddress]), reason: 'peer info id is not a peer id' },
    { given: 'an id of 10 KB', bytes: peerInfo([ID, new Uint8Array(10_000).fill(0x12)], [ADDR, tcpAddress]), reason: 'peer info id is 10000 bytes, longer than any peer id' },
    { given: 'an id one byte past the longest', bytes: peerInfo([ID, new Uint8Array(MAX_PEER_ID_BYTES + 1)]), reason: `peer info id is ${MAX_PEER_ID_BYTES + 1} bytes, longer than any peer id` },
    { given: 'an address of garbage', bytes: peerInfo([ID, someId], [ADDR, tcpAddress], [ADDR, hex('030102')]), reason: 'peer info address 2 is not a multiaddr' },
    { given: 'an empty address', bytes: peerInfo([ID, someId], [ADDR, new Uint8Array()]), reason: 'peer info address 1 is not a multiaddr' },
    { given: 'an address cut inside a component', bytes: peerInfo([ID, someId], [ADDR, tcpAddress.subarray(0, 6)]), reason: 'peer info address 1 is not a multiaddr' },
    { given: 'a DNS name that is not UTF-8', bytes: peerInfo([ID, someId], [ADDR, hex('3503ff6162')]), reason: 'peer info address 1 is not a multiaddr' },
    { given: 'an address with a padded varint', bytes: peerInfo([ID, someId], [ADDR, hex('8400 7f000001 0600fa')]), reason: 'peer info address 1 is not a multiaddr' },
    {
      given: `addresses over ${MAX_RECORD_ADDRESS_BYTES} bytes`,
      bytes: peerInfo([ID, someId], ...addresses(MAX_RECORD_ADDRESS_BYTES / tcpAddress.byteLength + 1)),
      reason: `peer info addresses are ${MAX_RECORD_ADDRESS_BYTES + tcpAddress.byteLength} bytes, the limit is ${MAX_RECORD_ADDRESS_BYTES}`
    }
  ])('given a PeerInfo with $given, then it is a bad PeerInfo, saying why', ({ bytes, reason: why }) => {
    expect(reason(readRecordField(bytes))).toBe(why)
  })

  it('given addresses of exactly the limit, then they are read', () => {
    const field = readRecordField(peerInfo([ID, someId], ...addresses(MAX_RECORD_ADDRESS_BYTES / tcpAddress.byteLength)))
    expect(field.kind === 'peer-info' ? field.peer.multiaddrs.length : reason(field)).toBe(MAX_RECORD_ADDRESS_BYTES / tcpAddress.byteLength)
  })

  it('given a PeerInfo without addresses, then it is read (whether that is enough is the point\'s to say)', () => {
    const field = readRecordField(peerInfo([ID, someId]))
    expect(field.kind === 'peer-info' ? field.peer.multiaddrs : reason(field)).toEqual([])
  })

  it('given a key written with a padded varint, then the PeerInfo is kept in its canonical encoding', () => {
    const padded = body(hex('8a00'), varint(someId.byteLength), someId, bytesField(ADDR, tcpAddress))
    const field = readRecordField(padded)
    expect(field.kind === 'peer-info' ? field.bytes : reason(field)).toEqual(peerInfo([ID, someId], [ADDR, tcpAddress]))
  })
})

describe('writing PeerInfo', () => {
  it('given a peer, then its PeerInfo is the id multihash in field 1 and each address in field 2, and reads back the same', async () => {
    const id = peerIdFromPrivateKey(await newKey())
    const multiaddrs = [multiaddr('/ip4/127.0.0.1/tcp/4001'), multiaddr('/dns4/example.com/tcp/443/wss')]
    const bytes = encodePeerInfo({ id, multiaddrs })
    expect(readFields(bytes)).toEqual([
      { field: ID, value: id.toMultihash().bytes },
      ...multiaddrs.map(ma => ({ field: ADDR, value: ma.bytes }))
    ])
    const field = readRecordField(bytes)
    expect(field.kind === 'peer-info' ? [field.peer.id.toString(), field.peer.multiaddrs.map(String)] : reason(field)).toEqual([id.toString(), multiaddrs.map(String)])
  })

  it('given a verified signed record, then its PeerInfo holds the record\'s peer and addresses', async () => {
    const key = await newKey()
    const envelope = await signRecord(key, { multiaddrs: ['/ip4/192.0.2.1/tcp/1', '/ip6/::1/tcp/2/ws'] })
    const field = readRecordField(peerInfoOfVerifiedRecord(envelope))
    expect(field.kind === 'peer-info' ? [field.peer.id.toString(), field.peer.multiaddrs.map(String)] : reason(field))
      .toEqual([peerIdFromPrivateKey(key).toString(), ['/ip4/192.0.2.1/tcp/1', '/ip6/::1/tcp/2/ws']])
  })
})
