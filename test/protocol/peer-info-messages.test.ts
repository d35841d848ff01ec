/**
 * Messages of the pre-2020 schema that the codec builds and reads, checked
 * on the raw bytes: what a client needs to register at a py-libp2p or berty
 * point, and what the point answers to a DISCOVER_SUBSCRIBE.
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { InvalidPeerInfoError, InvalidSignedPeerRecordError, NotAuthorizedError, RendezvousError, statusToError } from '../../src/errors.ts'
import { Message, discoverSubscribeError, isPeerInfoRefusal, parseRegisterResponse, parseRequest, parseSubscribeRequest, peerInfoRegisterRequest, registerError } from '../../src/protocol/messages.ts'
import { newKey } from '../fixtures/records.ts'
import { MessageField, RegisterField, body, bytesField, embedded, fieldValue, readFields, varintField } from '../fixtures/wire.ts'

const encoder = new TextEncoder()

describe('the pre-2020 schema in the codec', () => {
  it('given a PeerInfo REGISTER, then field 2 holds the id and addresses, the rest is a REGISTER like any other', async () => {
    const id = peerIdFromPrivateKey(await newKey())
    const message = peerInfoRegisterRequest('app', { id, multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4001')] }, 7200)
    const register = embedded(Message.encode(message), MessageField.register)
    expect(fieldValue(register, RegisterField.ns)).toEqual(encoder.encode('app'))
    expect(fieldValue(register, RegisterField.ttl)).toBe(7200n)
    expect(readFields(fieldValue(register, RegisterField.signedPeerRecord) as Uint8Array)).toEqual([
      { field: 1, value: id.toMultihash().bytes },
      { field: 2, value: multiaddr('/ip4/127.0.0.1/tcp/4001').bytes }
    ])
    // and the point reads back what was sent
    const request = parseRequest(Message.decode(Message.encode(message)))
    expect(request?.type === 'REGISTER' && request.record?.kind === 'peer-info' && request.record.peer.id.equals(id)).toBe(true)
  })

  it('given a 101 answer to a PeerInfo REGISTER, then it is an InvalidPeerInfoError, which is an InvalidSignedPeerRecordError too', () => {
    const refused = (): number | undefined => parseRegisterResponse(registerError('E_INVALID_SIGNED_PEER_RECORD', 'Address too long'), 'peer-info')
    expect(refused).toThrow(expect.objectContaining({ name: 'InvalidPeerInfoError', code: 101, statusText: 'Address too long', message: 'E_INVALID_PEER_INFO: Address too long' }))
    expect(refused).toThrow(InvalidSignedPeerRecordError)
    // the same answer to a signed REGISTER keeps its spec name, and other statuses keep theirs in either schema
    expect(() => parseRegisterResponse(registerError('E_INVALID_SIGNED_PEER_RECORD', 'x'))).toThrow(expect.objectContaining({ name: 'InvalidSignedPeerRecordError' }))
    expect(() => parseRegisterResponse(registerError('E_INVALID_TTL', 'x'), 'peer-info')).toThrow(expect.objectContaining({ name: 'InvalidTTLError' }))
  })

  it('given the error classes, then InvalidPeerInfoError is a RendezvousError of status 101 under the py name', () => {
    const err = statusToError('E_INVALID_SIGNED_PEER_RECORD', undefined, 'peer-info')
    expect(err).toBeInstanceOf(InvalidPeerInfoError)
    expect(err).toBeInstanceOf(RendezvousError)
    expect(err).toMatchObject({ name: 'InvalidPeerInfoError', status: 'E_INVALID_SIGNED_PEER_RECORD', code: 101, message: 'E_INVALID_PEER_INFO' })
    expect(new InvalidPeerInfoError('x')).toMatchObject({ name: 'InvalidPeerInfoError', statusText: 'x' })
  })

  it.each([
    { given: 'py-libp2p\'s answer', error: new NotAuthorizedError('Peer can only register itself'), legacy: true },
    { given: 'berty\'s and go\'s answer', error: new InvalidSignedPeerRecordError('bad peer id'), legacy: true },
    { given: 'our point\'s answer to a record of another peer', error: new NotAuthorizedError('the record is of 12D3KooW…, not of the registering peer'), legacy: false },
    { given: 'a spec point\'s answer to a bad signature', error: new InvalidSignedPeerRecordError('signature does not verify'), legacy: false },
    { given: 'the right text under another status', error: new NotAuthorizedError('bad peer id'), legacy: false },
    { given: 'no error at all', error: undefined, legacy: false }
  ])('given $given to a signed REGISTER, then isPeerInfoRefusal is $legacy', ({ error, legacy }) => {
    expect(isPeerInfoRefusal(error)).toBe(legacy)
  })

  it('given a DISCOVER_SUBSCRIBE, with or without its type, then it is read as one, and never as another request', () => {
    const subscribe = bytesField(100, body(bytesField(1, 'inmem'), bytesField(2, 'app')))
    for (const frame of [body(varintField(MessageField.type, 100), subscribe), subscribe]) {
      const message = Message.decode(frame)
      expect(parseSubscribeRequest(message)).toEqual({ type: 'DISCOVER_SUBSCRIBE', namespace: 'app' })
      expect(parseRequest(message)).toBeUndefined()
    }
    expect(parseSubscribeRequest(Message.decode(body(varintField(MessageField.type, 3))))).toBeUndefined()
  })

  it('given the answer to a DISCOVER_SUBSCRIBE, then it is type 101 with field 101 holding berty\'s status for "no such subscription"', () => {
    const bytes = Message.encode(discoverSubscribeError('no subscriptions here'))
    expect(fieldValue(bytes, MessageField.type)).toBe(101n)
    const response = embedded(bytes, 101)
    expect(fieldValue(response, 3)).toBe(300n)
    expect(fieldValue(response, 4)).toEqual(encoder.encode('no subscriptions here'))
  })
})
