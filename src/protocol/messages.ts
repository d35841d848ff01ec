/**
 * Wire messages <-> plain values. Everything above this module works with
 * numbers, strings and bytes; nothing above it sees protobuf presence rules.
 *
 * What we write is strict: `type` and `status` always, `ttl` and `cookie` on
 * every OK response, `ns`, `ttl` and `signedPeerRecord` on every returned
 * registration, and never a zero sentinel (`limit: 0`, an empty cookie or an
 * empty namespace), because strict decoders (rust, nim) reject absent fields
 * and lenient ones (go, rust) read zeros as "nothing".
 *
 * What we read is lenient: proto3 encoders (berty, py, canvas) drop `type =
 * REGISTER`, `status = OK` and other zeros, so an absent status is OK, an
 * absent type is inferred from the body, and an absent or empty registration
 * namespace is the one that was asked for.
 *
 * Both schemas are read and written here: a REGISTER's field 2 is a signed
 * envelope or, from pre-2020 senders, a PeerInfo (see peer-info.ts).
 */
import { InvalidMessageError } from '@libp2p/interface'
import { statusToError } from '../errors.ts'
import { Message } from '../pb/rendezvous.ts'
import { encodePeerInfo, readRecordField } from './peer-info.ts'
import type { RecordField, Schema } from './peer-info.ts'
import type { RendezvousError, ResponseStatusName } from '../errors.ts'
import type { PeerInfo } from '@libp2p/interface'

export { Message }

/** A registration as it travels in a DISCOVER response */
export interface WireRegistration {
  namespace: string
  signedPeerRecord: Uint8Array
  /** Seconds left, when the point said */
  ttl?: number
}

export interface DiscoverPage {
  registrations: WireRegistration[]
  /** Pass back to get only what this page did not hold; absent when the point sent none */
  cookie?: Uint8Array
  /** Entries the point sent without a record, which we could not use */
  malformed: number
}

export type Request =
  /** `record` says what `signedPeerRecord` (field 2) holds, when it holds anything (see peer-info.ts) */
  | { type: 'REGISTER', namespace?: string, signedPeerRecord?: Uint8Array, record?: RecordField, ttl?: number }
  | { type: 'UNREGISTER', namespace?: string, legacyId?: Uint8Array }
  | { type: 'DISCOVER', namespace?: string, limit?: number, cookie?: Uint8Array }

/** Pre-2020 schema only: a subscription to registrations pushed over a channel of the point's choosing */
export interface SubscribeRequest { type: 'DISCOVER_SUBSCRIBE', namespace?: string }

/** uint64 -> number; values past 2^53 lose precision but keep their magnitude, which is all a range check needs */
function toNumber (value: bigint | undefined): number | undefined {
  return value == null ? undefined : Number(value)
}

function nonEmpty<T extends string | Uint8Array> (value: T | undefined): T | undefined {
  return value == null || value.length === 0 ? undefined : value
}

/**
 * A copy with its own memory. Decoded bytes are views into the whole frame
 * (on Node, Buffers that share it), and callers keep records and cookies far
 * longer than the frame they came in.
 */
function owned (value: Uint8Array): Uint8Array {
  return new Uint8Array(value)
}

// ---- client side: requests out, responses in ----

export function registerRequest (namespace: string, signedPeerRecord: Uint8Array, ttl?: number): Message {
  return {
    type: Message.MessageType.REGISTER,
    register: {
      ns: namespace,
      signedPeerRecord: signedPeerRecord as Uint8Array<ArrayBuffer>,
      ttl: ttl == null ? undefined : BigInt(ttl)
    }
  }
}

/** A REGISTER in the pre-2020 schema: an unsigned PeerInfo where the spec has a signed record */
export function peerInfoRegisterRequest (namespace: string, peer: PeerInfo, ttl?: number): Message {
  return registerRequest(namespace, encodePeerInfo(peer), ttl)
}

/** `legacyId` is the removed `id` field, which py and early js points require */
export function unregisterRequest (namespace: string, legacyId?: Uint8Array): Message {
  return {
    type: Message.MessageType.UNREGISTER,
    unregister: { ns: namespace, id: legacyId as Uint8Array<ArrayBuffer> | undefined }
  }
}

export function discoverRequest (namespace?: string, limit?: number, cookie?: Uint8Array): Message {
  return {
    type: Message.MessageType.DISCOVER,
    discover: {
      ns: nonEmpty(namespace),
      limit: limit != null && limit >= 1 ? BigInt(Math.floor(limit)) : undefined,
      cookie: nonEmpty(cookie) as Uint8Array<ArrayBuffer> | undefined
    }
  }
}

function expectResponse<K extends 'registerResponse' | 'discoverResponse'> (message: Message, key: K, type: Message.MessageType): NonNullable<Message[K]> {
  const body = message[key]
  if (body == null || (message.type != null && message.type !== type)) {
    throw new InvalidMessageError(`Expected ${type}, got ${message.type ?? 'a message without a type'}`)
  }
  return body as NonNullable<Message[K]>
}

function throwIfNotOk (status: Message.ResponseStatus | undefined, statusText: string | undefined, schema?: Schema): void {
  if (status != null && status !== Message.ResponseStatus.OK) {
    throw statusToError(status as Exclude<ResponseStatusName, 'OK'>, nonEmpty(statusText), schema)
  }
}

/**
 * The granted TTL in seconds (undefined when the point did not say), or the
 * named error of a non-OK status; `schema` is the one the REGISTER was sent in
 */
export function parseRegisterResponse (message: Message, schema?: Schema): number | undefined {
  const response = expectResponse(message, 'registerResponse', Message.MessageType.REGISTER_RESPONSE)
  throwIfNotOk(response.status, response.statusText, schema)
  return toNumber(response.ttl)
}

/**
 * What points of the pre-2020 schema answer a spec REGISTER: they read our
 * envelope as a PeerInfo, its public key as the peer id. py-libp2p then finds
 * that id is not ours; berty's and go's find it is no peer id at all.
 */
const PEER_INFO_REFUSALS: ReadonlyArray<{ name: string, statusText: string }> = [
  { name: 'NotAuthorizedError', statusText: 'Peer can only register itself' },
  { name: 'InvalidSignedPeerRecordError', statusText: 'bad peer id' }
]

/**
 * Whether a refusal of a REGISTER that carried our own, valid signed record
 * shows a point of the pre-2020 schema, to be sent a PeerInfo instead. A
 * spec point says neither of these about a record of the registering peer.
 */
export function isPeerInfoRefusal (err: unknown): boolean {
  return PEER_INFO_REFUSALS.some(({ name, statusText }) => (err as RendezvousError | undefined)?.name === name && (err as RendezvousError).statusText === statusText)
}

export function parseDiscoverResponse (message: Message, namespace?: string): DiscoverPage {
  const response = expectResponse(message, 'discoverResponse', Message.MessageType.DISCOVER_RESPONSE)
  throwIfNotOk(response.status, response.statusText)

  const registrations: WireRegistration[] = []
  let malformed = 0
  for (const entry of response.registrations) {
    if (entry.signedPeerRecord == null || entry.signedPeerRecord.byteLength === 0) {
      malformed++
      continue
    }
    registrations.push({
      namespace: nonEmpty(entry.ns) ?? namespace ?? '',
      signedPeerRecord: owned(entry.signedPeerRecord),
      ttl: toNumber(entry.ttl)
    })
  }

  const cookie = nonEmpty(response.cookie)
  return { registrations, cookie: cookie == null ? undefined : owned(cookie), malformed }
}

// ---- server side: requests in, responses out ----

/** The request a message carries, or undefined when it carries none we serve */
export function parseRequest (message: Message): Request | undefined {
  const type = message.type ?? inferType(message)
  switch (type) {
    case Message.MessageType.REGISTER:
      return {
        type: 'REGISTER',
        namespace: message.register?.ns,
        signedPeerRecord: message.register?.signedPeerRecord,
        record: recordField(message.register?.signedPeerRecord),
        ttl: toNumber(message.register?.ttl)
      }
    case Message.MessageType.UNREGISTER:
      return { type: 'UNREGISTER', namespace: message.unregister?.ns, legacyId: nonEmpty(message.unregister?.id) }
    case Message.MessageType.DISCOVER:
      return {
        type: 'DISCOVER',
        namespace: message.discover?.ns,
        limit: toNumber(message.discover?.limit),
        cookie: message.discover?.cookie
      }
    default:
      return undefined
  }
}

/** The DISCOVER_SUBSCRIBE a message carries, or undefined when it carries none */
export function parseSubscribeRequest (message: Message): SubscribeRequest | undefined {
  if ((message.type ?? inferType(message)) !== Message.MessageType.DISCOVER_SUBSCRIBE) return undefined
  return { type: 'DISCOVER_SUBSCRIBE', namespace: message.discoverSubscribe?.ns }
}

function recordField (bytes: Uint8Array | undefined): RecordField | undefined {
  return bytes == null || bytes.byteLength === 0 ? undefined : readRecordField(bytes)
}

/** proto3 senders leave out `type = REGISTER`; the body still says what was meant */
function inferType (message: Message): Message.MessageType | undefined {
  if (message.register != null) return Message.MessageType.REGISTER
  if (message.unregister != null) return Message.MessageType.UNREGISTER
  if (message.discover != null) return Message.MessageType.DISCOVER
  if (message.discoverSubscribe != null) return Message.MessageType.DISCOVER_SUBSCRIBE
  // an empty message is how a proto3 sender writes a REGISTER with no fields set
  if (message.registerResponse == null && message.discoverResponse == null && message.discoverSubscribeResponse == null) return Message.MessageType.REGISTER
  return undefined
}

export function registerOk (ttl: number): Message {
  return {
    type: Message.MessageType.REGISTER_RESPONSE,
    registerResponse: { status: Message.ResponseStatus.OK, ttl: BigInt(ttl) }
  }
}

export function registerError (status: Exclude<ResponseStatusName, 'OK'>, statusText: string): Message {
  return {
    type: Message.MessageType.REGISTER_RESPONSE,
    registerResponse: { status: Message.ResponseStatus[status], statusText }
  }
}

export function discoverOk (registrations: WireRegistration[], cookie: Uint8Array): Message {
  return {
    type: Message.MessageType.DISCOVER_RESPONSE,
    discoverResponse: {
      status: Message.ResponseStatus.OK,
      cookie: cookie as Uint8Array<ArrayBuffer>,
      registrations: registrations.map(r => ({
        ns: r.namespace,
        signedPeerRecord: r.signedPeerRecord as Uint8Array<ArrayBuffer>,
        ttl: BigInt(r.ttl ?? 0)
      }))
    }
  }
}

export function discoverError (status: Exclude<ResponseStatusName, 'OK'>, statusText: string): Message {
  return {
    type: Message.MessageType.DISCOVER_RESPONSE,
    discoverResponse: { status: Message.ResponseStatus[status], statusText, registrations: [] }
  }
}

/**
 * The answer to a DISCOVER_SUBSCRIBE: a point without a subscription channel
 * says so with berty's own answer for a subscription type it lacks, which
 * berty's client meets by polling instead
 */
export function discoverSubscribeError (statusText: string): Message {
  return {
    type: Message.MessageType.DISCOVER_SUBSCRIBE_RESPONSE,
    discoverSubscribeResponse: { status: Message.ResponseStatus.E_INTERNAL_ERROR, statusText }
  }
}
