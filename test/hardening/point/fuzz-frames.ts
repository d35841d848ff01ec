/**
 * Hostile frames for the point, and what the point must do with each.
 *
 * A session is what one stream carries: a few pieces, each a length-prefixed
 * frame or a broken prefix. Every piece says what the point owes it:
 * - 'answer': a REGISTER, DISCOVER or DISCOVER_SUBSCRIBE it understood,
 *   which gets exactly one response of the matching type;
 * - 'silent': an UNREGISTER, which gets none;
 * - 'reset': a frame that is no request (undecodable, unknown type, a
 *   response), or a prefix announcing more than the point reads, or longer
 *   than such a length needs: the point resets the stream and reads no more;
 * - 'eof': a frame cut short by the end of the stream: the point closes.
 * REGISTERs carry signed records and, as pre-2020 clients send them,
 * PeerInfos (see fuzz-peer-info.ts), good and hostile.
 * The framing verdicts follow from how each piece was built; a body's
 * verdict comes from decoding it the way the point does, so the fuzzer can
 * never expect an answer to something that is not a request.
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Message, parseRequest, parseSubscribeRequest } from '../../../src/protocol/messages.ts'
import { LEGACY_ROUTING_STATE, newKey, signRecord, tamper } from '../../fixtures/records.ts'
import { varint } from '../../fixtures/wire.ts'
import { concat, encodeFields, encoded, fieldAt, key, lengthDelimited, parse, paths, rewrite } from './fuzz-fields.ts'
import { hostilePeerInfo, ownPeerInfo } from './fuzz-peer-info.ts'
import type { Field, Schema } from './fuzz-fields.ts'
import type { Random } from './support.ts'
import type { Request, SubscribeRequest } from '../../../src/protocol/messages.ts'
import type { PeerId, PrivateKey } from '@libp2p/interface'

const encoder = new TextEncoder()

// ---- the messages' shapes: which fields hold embedded messages ----

const PUBLIC_KEY: Schema = {}
const PEER_RECORD: Schema = { 3: {} }
const ENVELOPE: Schema = { 1: PUBLIC_KEY, 3: PEER_RECORD }
const MESSAGE: Schema = { 2: { 2: ENVELOPE }, 4: {}, 5: {}, 100: {} }
/** The same with the pre-2020 REGISTER, whose field 2 is a PeerInfo (id, addresses) */
const PEER_INFO_MESSAGE: Schema = { ...MESSAGE, 2: { 2: {} } }

// ---- who sends, and what they hold ----

export interface FuzzPeer {
  key: PrivateKey
  peerId: PeerId
  /** Its own records, valid, seq 1..3 */
  records: Uint8Array[]
  /** Its own record under rust's legacy routing-state names */
  legacy: Uint8Array
  /** Its own PeerInfo, as a pre-2020 client registers */
  peerInfo: Uint8Array
}

export interface Corpus {
  peers: FuzzPeer[]
  /** Records no fuzz peer may register as its own */
  foreign: Uint8Array[]
  /** Cookies the point issued: for 'app' and for all namespaces */
  cookies: { app: Uint8Array, all: Uint8Array }
}

export async function fuzzPeers (count: number): Promise<FuzzPeer[]> {
  return Promise.all(Array.from({ length: count }, async () => {
    const key = await newKey()
    const records = await Promise.all([1n, 2n, 3n].map(async seq => signRecord(key, { seq, multiaddrs: [`/ip4/127.0.0.1/tcp/${4000 + Number(seq)}`] })))
    const peerId = peerIdFromPrivateKey(key)
    return { key, peerId, records, legacy: await signRecord(key, { ...LEGACY_ROUTING_STATE, seq: 1n }), peerInfo: ownPeerInfo(peerId) }
  }))
}

/** Records that must never be stored for a fuzz peer: someone else's, signed by another key, tampered, not a peer record */
export async function foreignRecords (victim: FuzzPeer): Promise<Uint8Array[]> {
  const stranger = await newKey()
  return [
    await signRecord(stranger),
    await signRecord(stranger, { peerId: victim.peerId }),
    tamper(victim.records[2]),
    await signRecord(victim.key, { payloadType: encoder.encode('/libp2p/not-a-peer-record'), domain: 'libp2p-not-a-peer-record' }),
    await signRecord(victim.key, { payload: Uint8Array.from([0x0a, 0x03, 1, 2, 3]) })
  ]
}

// ---- pieces and sessions ----

export type Expectation =
  | { kind: 'answer', type: 'REGISTER' | 'DISCOVER' | 'DISCOVER_SUBSCRIBE', request: Request | SubscribeRequest }
  | { kind: 'silent' }
  | { kind: 'reset' }
  | { kind: 'eof' }

export interface Piece {
  /** Which generator made it, for the counts */
  category: string
  /** Exactly the bytes on the wire, length prefix included */
  bytes: Uint8Array
  expect: Expectation
}

export interface Session {
  sender: FuzzPeer
  pieces: Piece[]
  /** How the bytes are cut into the chunks the stream delivers */
  chunks: Uint8Array[]
}

/** What the point owes a frame body, decided the way the point decides it */
export function judgeBody (body: Uint8Array): Expectation {
  let message: Message
  try {
    message = Message.decode(body)
  } catch {
    return { kind: 'reset' }
  }
  const request = parseRequest(message) ?? parseSubscribeRequest(message)
  if (request == null) return { kind: 'reset' }
  if (request.type === 'UNREGISTER') return { kind: 'silent' }
  return { kind: 'answer', type: request.type, request }
}

function framed (category: string, body: Uint8Array): Piece {
  return { category, bytes: concat([varint(body.byteLength), body]), expect: judgeBody(body) }
}


export class FrameFactory {
  /** The longest length prefix the point reads: as long as the varint of its largest frame */
  private readonly maxPrefix: number

  constructor (
    private readonly rng: Random,
    private readonly corpus: Corpus,
    private readonly maxMessageSize: number
  ) {
    this.maxPrefix = varint(maxMessageSize).byteLength
  }

  // ---- values a hostile sender would pick ----

  namespace (): string {
    const { rng } = this
    switch (rng.int(10)) {
      case 0: return ''
      case 1: return 'a'.repeat(rng.pick([255, 256, 1000]))
      case 2: return 'é'.repeat(rng.pick([127, 128]))
      case 3: return String.fromCodePoint(...Array.from({ length: rng.between(1, 20) }, () => rng.between(1, 0x10ffff)).filter(c => c < 0xd800 || c > 0xdfff))
      case 4: return new TextDecoder().decode(rng.bytes(rng.between(1, 40)))
      case 5: return `fuzz-${rng.int(50)}`
      default: return rng.pick(['app', 'chat', 'fuzz', 'legit-a'])
    }
  }

  record (sender: FuzzPeer): Uint8Array {
    const { rng } = this
    switch (rng.int(14)) {
      case 0: return rng.pick(this.corpus.foreign)
      case 1: return sender.legacy
      case 2: return rng.bytes(rng.between(0, 200))
      case 3: return new Uint8Array()
      case 4: return rng.pick(this.corpus.peers).records[0]
      case 10: return sender.peerInfo
      case 11: case 12: return hostilePeerInfo(rng, sender.peerId, this.corpus.peers.filter(p => p !== sender).map(p => p.peerId))
      default: return rng.pick(sender.records)
    }
  }

  cookie (): Uint8Array {
    const { rng } = this
    switch (rng.int(6)) {
      case 0: return this.corpus.cookies.app
      case 1: return this.corpus.cookies.all
      case 2: return new Uint8Array()
      case 3: return Uint8Array.from(this.corpus.cookies.app, (b, i) => i === rng.int(25) ? b ^ (1 << rng.int(8)) : b)
      default: return rng.bytes(rng.pick([1, 24, 25, 26, 100]))
    }
  }

  // ---- whole requests ----

  /** A request that could be genuine: well formed, with hostile values in it */
  request (sender: FuzzPeer): Field[] {
    const { rng } = this
    const type: Field[] = []
    const fields: Field[] = []
    switch (rng.int(3)) {
      case 0: {
        if (rng.chance(0.8)) type.push({ no: 1, wire: 'varint', value: 0n })
        const body: Field[] = []
        if (rng.chance(0.9)) body.push({ no: 1, wire: 'bytes', value: encoder.encode(this.namespace()) })
        if (rng.chance(0.9)) body.push({ no: 2, wire: 'bytes', value: this.record(sender) })
        if (rng.chance(0.7)) body.push({ no: 3, wire: 'varint', value: rng.chance(0.6) ? BigInt(rng.between(60, 300_000)) : rng.uint64() })
        fields.push({ no: 2, wire: 'message', fields: body })
        break
      }
      case 1: {
        type.push({ no: 1, wire: 'varint', value: 3n })
        const body: Field[] = []
        if (rng.chance(0.7)) body.push({ no: 1, wire: 'bytes', value: encoder.encode(this.namespace()) })
        if (rng.chance(0.5)) body.push({ no: 2, wire: 'varint', value: rng.uint64() })
        if (rng.chance(0.5)) body.push({ no: 3, wire: 'bytes', value: this.cookie() })
        fields.push({ no: 5, wire: 'message', fields: body })
        break
      }
      default: {
        if (rng.chance(0.1)) {
          // a pre-2020 subscription, which the point answers and turns down
          type.push({ no: 1, wire: 'varint', value: 100n })
          fields.push({ no: 100, wire: 'message', fields: [{ no: 1, wire: 'bytes', value: encoder.encode('inmem') }, { no: 2, wire: 'bytes', value: encoder.encode(this.namespace()) }] })
          break
        }
        type.push({ no: 1, wire: 'varint', value: 2n })
        const body: Field[] = []
        if (rng.chance(0.8)) body.push({ no: 1, wire: 'bytes', value: encoder.encode(rng.chance(0.3) ? '' : this.namespace()) })
        if (rng.chance(0.3)) body.push({ no: 2, wire: 'bytes', value: rng.chance(0.5) ? rng.pick(this.corpus.peers).peerId.toMultihash().bytes : rng.bytes(34) })
        fields.push({ no: 4, wire: 'message', fields: body })
      }
    }
    return [...type, ...fields]
  }

  /** The well-formed requests every corruption starts from: one of each kind, with valid values throughout */
  seeds (sender: FuzzPeer): Array<{ name: string, fields: Field[] }> {
    return [
      { name: 'REGISTER', fields: parse(Message.encode({ type: Message.MessageType.REGISTER, register: { ns: 'app', signedPeerRecord: sender.records[2] as Uint8Array<ArrayBuffer>, ttl: 300n } }), MESSAGE) },
      { name: 'DISCOVER', fields: parse(Message.encode({ type: Message.MessageType.DISCOVER, discover: { ns: 'app', limit: 10n, cookie: this.corpus.cookies.app as Uint8Array<ArrayBuffer> } }), MESSAGE) },
      { name: 'UNREGISTER', fields: parse(Message.encode({ type: Message.MessageType.UNREGISTER, unregister: { ns: 'app', id: sender.peerId.toMultihash().bytes as Uint8Array<ArrayBuffer> } }), MESSAGE) },
      { name: 'PeerInfo REGISTER', fields: parse(Message.encode({ register: { ns: 'app', signedPeerRecord: sender.peerInfo as Uint8Array<ArrayBuffer>, ttl: 300n } }), PEER_INFO_MESSAGE) },
      { name: 'DISCOVER_SUBSCRIBE', fields: parse(Message.encode({ type: Message.MessageType.DISCOVER_SUBSCRIBE, discoverSubscribe: { ns: 'app', supportedSubscriptionTypes: ['inmem'] } }), MESSAGE) }
    ]
  }

  // ---- corruptions of one field ----

  /** Every way of corrupting one field, by name; each returns what replaces the field */
  corruptions (field: Field): Array<[string, () => Field[]]> {
    const { rng } = this
    const { no } = field
    const common: Array<[string, () => Field[]]> = [
      ['removed', () => []],
      ['repeated', () => [field, field]],
      ['renumbered', () => [{ ...field, no: rng.pick([no + 1, no + 7, 2 ** 29 - 1]) }]],
      ['beside an unknown field', () => [field, { no: rng.pick([15, 99, 100_000]), wire: 'bytes', value: rng.bytes(rng.between(0, 64)) }]],
      ['as fixed32', () => [{ no, wire: 'raw', bytes: concat([key(no, 5), rng.bytes(4)]) }]],
      ['as fixed64', () => [{ no, wire: 'raw', bytes: concat([key(no, 1), rng.bytes(8)]) }]],
      ['as a group', () => [{ no, wire: 'raw', bytes: concat([key(no, 3), key(no, 4)]) }]],
      ['with wire type 7', () => [{ no, wire: 'raw', bytes: concat([key(no, 7), rng.bytes(3)]) }]],
      ['cut short', () => {
        const bytes = encoded(field)
        return [{ no, wire: 'raw', bytes: bytes.subarray(0, rng.between(1, Math.max(1, bytes.byteLength - 1))) }]
      }]
    ]
    if (field.wire === 'varint') {
      return [
        ...common,
        ['zero', () => [{ ...field, value: 0n }]],
        ['one', () => [{ ...field, value: 1n }]],
        ['2^64-1', () => [{ ...field, value: 2n ** 64n - 1n }]],
        ['2^63', () => [{ ...field, value: 2n ** 63n }]],
        ['2^53+1', () => [{ ...field, value: 2n ** 53n + 1n }]],
        ['random', () => [{ ...field, value: rng.uint64() }]],
        ['a varint that never ends', () => [{ no, wire: 'raw', bytes: concat([key(no, 0), new Uint8Array(rng.between(11, 20)).fill(0xff)]) }]],
        ['as bytes', () => [{ no, wire: 'bytes', value: rng.bytes(rng.between(0, 16)) }]]
      ]
    }
    const value = field.wire === 'bytes' ? field.value : field.wire === 'message' ? encodeFields(field.fields) : field.bytes
    return [
      ...common,
      ['emptied', () => [{ no, wire: 'bytes', value: new Uint8Array() }]],
      ['random bytes of the same length', () => [{ no, wire: 'bytes', value: rng.bytes(value.byteLength) }]],
      ['random bytes of another length', () => [{ no, wire: 'bytes', value: rng.bytes(rng.between(1, 2000)) }]],
      ['one bit flipped', () => {
        const flipped = Uint8Array.from(value)
        if (flipped.byteLength > 0) flipped[rng.int(flipped.byteLength)] ^= 1 << rng.int(8)
        return [{ no, wire: 'bytes', value: flipped }]
      }],
      ['truncated', () => [{ no, wire: 'bytes', value: value.subarray(0, rng.int(Math.max(1, value.byteLength))) }]],
      ['extended', () => [{ no, wire: 'bytes', value: concat([value, rng.bytes(rng.between(1, 8))]) }]],
      ['longer than what follows', () => [{ no, wire: 'raw', bytes: concat([key(no, 2), varint(value.byteLength + rng.between(1, 1000)), value]) }]],
      ['invalid UTF-8', () => [{ no, wire: 'bytes', value: Uint8Array.from([0xc3, 0x28, 0xff, 0xfe, ...value.subarray(0, 8)]) }]],
      ['as a varint', () => [{ no, wire: 'varint', value: rng.uint64() }]]
    ]
  }

  /**
   * Every seed with every field corrupted in turn, every way: the same list
   * (with fresh random values) each time it is asked for.
   */
  everyFieldCorrupted (sender: FuzzPeer): Piece[] {
    const pieces: Piece[] = []
    for (const seed of this.seeds(sender)) {
      for (const path of paths(seed.fields)) {
        const field = fieldAt(seed.fields, path)
        for (const [, corrupt] of this.corruptions(field)) {
          pieces.push(framed('field corrupted', encodeFields(rewrite(seed.fields, path, corrupt))))
        }
      }
    }
    return pieces
  }

  // ---- random protobuf, unknown types, byte-level mutation ----

  randomFields (depth: number): Uint8Array {
    const { rng } = this
    const count = rng.between(0, 6)
    const parts: Uint8Array[] = []
    for (let i = 0; i < count; i++) {
      const no = rng.chance(0.7) ? rng.between(1, 6) : rng.pick([7, 15, 16, 2047, 2 ** 29 - 1, 0])
      switch (rng.pick([0, 0, 2, 2, 2, 1, 5, 3, 4, 6, 7])) {
        case 0: parts.push(concat([key(no, 0), varint(rng.uint64())])); break
        case 1: parts.push(concat([key(no, 1), rng.bytes(8)])); break
        case 5: parts.push(concat([key(no, 5), rng.bytes(4)])); break
        case 2: {
          const inner = depth > 0 && rng.chance(0.5) ? this.randomFields(depth - 1) : rng.chance(0.3) ? this.record(rng.pick(this.corpus.peers)) : rng.bytes(rng.between(0, 64))
          parts.push(lengthDelimited(no, inner))
          break
        }
        default: parts.push(concat([key(no, rng.pick([3, 4, 6, 7])), rng.bytes(rng.between(0, 4))]))
      }
    }
    return concat(parts)
  }

  unknownType (sender: FuzzPeer): Uint8Array {
    const { rng } = this
    const type = rng.pick([1n, 4n, BigInt(rng.between(5, 127)), 2n ** 31n, 2n ** 32n - 1n, 2n ** 64n - 1n, rng.uint64()])
    const rest = rng.chance(0.5) ? encodeFields(this.request(sender).filter(f => f.no !== 1)) : this.randomFields(1)
    return concat([key(1, 0), varint(type), rest])
  }

  mutate (body: Uint8Array): Uint8Array {
    const { rng } = this
    let bytes: Uint8Array = Uint8Array.from(body)
    for (let n = rng.between(1, 4); n > 0; n--) {
      const at = rng.int(bytes.byteLength + 1)
      switch (rng.int(7)) {
        case 0: if (bytes.byteLength > 0) bytes[Math.min(at, bytes.byteLength - 1)] ^= 1 << rng.int(8); break
        case 1: if (bytes.byteLength > 0) bytes[Math.min(at, bytes.byteLength - 1)] = rng.int(256); break
        case 2: bytes = concat([bytes.subarray(0, at), rng.bytes(rng.between(1, 16)), bytes.subarray(at)]); break
        case 3: bytes = concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.byteLength, at + rng.between(1, 16)))]); break
        case 4: bytes = bytes.subarray(0, at); break
        case 5: bytes = concat([bytes, bytes.subarray(at, at + rng.between(1, 64))]); break
        default: bytes = concat([bytes.subarray(0, at), encodeFields(this.request(rng.pick(this.corpus.peers)))]); break
      }
    }
    return bytes
  }

  // ---- framing ----

  /** A prefix announcing more than the point reads, and some of the body */
  oversized (): Piece {
    const { rng } = this
    const length = rng.chance(0.5) ? this.maxMessageSize + rng.between(1, 16) : rng.between(this.maxMessageSize + 1, 2 ** 21 - 1)
    return { category: 'oversized length prefix', bytes: concat([varint(length), rng.bytes(rng.between(0, 64))]), expect: { kind: 'reset' } }
  }

  /** A prefix longer than the largest frame needs: continuation bytes, maybe ended, maybe not */
  overlong (): Piece {
    const { rng } = this
    const continuation = Array.from({ length: rng.between(this.maxPrefix, this.maxPrefix + 20) }, () => 0x80 | rng.int(128))
    const ended = rng.chance(0.5) ? [rng.int(128)] : []
    return { category: 'over-long length prefix', bytes: Uint8Array.from([...continuation, ...ended, ...rng.bytes(rng.between(0, 16))]), expect: { kind: 'reset' } }
  }

  /** A prefix cut off by the end of the stream */
  truncatedPrefix (): Piece {
    const { rng } = this
    const bytes = Array.from({ length: rng.between(1, this.maxPrefix - 1) }, () => 0x80 | rng.int(128))
    return { category: 'truncated length prefix', bytes: Uint8Array.from(bytes), expect: { kind: 'eof' } }
  }

  /** A whole prefix, then less body than it announced, then the end of the stream */
  truncatedBody (sender: FuzzPeer): Piece {
    const { rng } = this
    const body = encodeFields(this.request(sender))
    const cut = rng.int(Math.max(1, body.byteLength))
    return { category: 'truncated body', bytes: concat([varint(body.byteLength), body.subarray(0, cut)]), expect: { kind: 'eof' } }
  }

  /** A body whose length prefix takes as many bytes as the point allows, more than it needs */
  nonMinimal (body: Uint8Array): Piece {
    const piece = framed('non-minimal length prefix', body)
    if (body.byteLength >= 2 ** (7 * (this.maxPrefix - 1))) return piece
    const prefix = new Uint8Array(this.maxPrefix)
    let rest = body.byteLength
    for (let i = 0; i < this.maxPrefix; i++) {
      prefix[i] = (rest & 0x7f) | (i < this.maxPrefix - 1 ? 0x80 : 0)
      rest = Math.floor(rest / 128)
    }
    return { ...piece, bytes: concat([prefix, body]) }
  }

  /** One piece of any kind that lets the session go on (or, if `last`, one that may end it) */
  piece (sender: FuzzPeer, last: boolean): Piece {
    const { rng } = this
    const roll = rng.int(100)
    if (roll < 14) return framed('valid request', encodeFields(this.request(sender)))
    if (roll < 36) return framed('random protobuf', this.randomFields(2))
    if (roll < 46) return framed('unknown message type', this.unknownType(sender))
    if (roll < 72) return framed('mutated request', this.mutate(encodeFields(this.request(sender))))
    if (roll < 78) return framed('random bytes', rng.bytes(rng.between(0, 300)))
    if (roll < 80) return framed('empty frame', new Uint8Array())
    if (roll < 81) return this.nonMinimal(encodeFields(this.request(sender)))
    if (roll < 87) return this.oversized()
    if (roll < 93) return this.overlong()
    if (!last) return framed('valid request', encodeFields(this.request(sender)))
    return roll < 97 ? this.truncatedBody(sender) : this.truncatedPrefix()
  }

  /** Cut `bytes` into the chunks a stream delivers: whole, or at a few random places, single bytes included */
  chunks (bytes: Uint8Array): Uint8Array[] {
    const { rng } = this
    if (bytes.byteLength < 2 || rng.chance(0.5)) return [bytes]
    const cuts = [...new Set(Array.from({ length: rng.between(1, 8) }, () => rng.between(1, bytes.byteLength - 1)))].sort((a, b) => a - b)
    return [0, ...cuts].map((start, i) => bytes.subarray(start, cuts[i] ?? bytes.byteLength))
  }

  /** A stream's worth of pieces from a random sender: it ends at the first piece that ends the stream */
  session (): Session {
    const { rng } = this
    const sender = rng.pick(this.corpus.peers)
    const count = rng.between(1, 6)
    const pieces: Piece[] = []
    for (let i = 0; i < count; i++) {
      const piece = this.piece(sender, i === count - 1)
      pieces.push(piece)
      if (piece.expect.kind === 'reset' || piece.expect.kind === 'eof') break
    }
    return this.asSession(sender, pieces)
  }

  asSession (sender: FuzzPeer, pieces: Piece[]): Session {
    return { sender, pieces, chunks: this.chunks(concat(pieces.map(p => p.bytes))) }
  }

  /** A frame of exactly the largest size the point reads, or one byte more */
  boundary (sender: FuzzPeer, over: boolean): Piece {
    const body = padded(encodeFields(this.request(sender)), this.maxMessageSize + (over ? 1 : 0))
    return over
      ? { category: 'frame one byte over the limit', bytes: concat([varint(body.byteLength), body]), expect: { kind: 'reset' } }
      : framed('frame at the limit', body)
  }
}

/** `body` padded with an unknown field (which decoders skip) to exactly `size` bytes */
export function padded (body: Uint8Array, size: number): Uint8Array {
  // the padding field's own key and length prefix take some of the room
  for (let overhead = 2; overhead <= 6; overhead++) {
    const room = size - body.byteLength - overhead
    if (room < 0) break
    const padding = lengthDelimited(99, new Uint8Array(room))
    if (body.byteLength + padding.byteLength === size) return concat([body, padding])
  }
  throw new Error(`cannot pad ${body.byteLength} bytes to ${size}`)
}
