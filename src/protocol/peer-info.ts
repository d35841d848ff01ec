/**
 * Register field 2 in both schemas that share `/rendezvous/1.0.0`.
 *
 * The spec puts a signed envelope there (`public_key = 1, payload_type = 2,
 * payload = 3, signature = 5`); the pre-2020 schema (py-libp2p, berty's go)
 * a PeerInfo (`id = 1, repeated addrs = 2`). Both are length-delimited bytes
 * whose first fields are 1 and 2, so only the bytes can say which they are,
 * and garbage must pass for neither:
 * - a PeerInfo is read as one only when it is a well-formed one: fields 1
 *   and 2 alone, all length-delimited, exactly one id that is a peer id, and
 *   addresses that are canonical multiaddrs. An envelope never fits that
 *   shape, because it cannot do without its payload and signature;
 * - everything else goes to envelope verification, which nothing passes
 *   without a signature by the peer it describes.
 * A PeerInfo is unsigned: its id and addresses are only the sender's word.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import { equals } from 'uint8arrays/equals'
import { toString as toBase58 } from 'uint8arrays/to-string'
import { MAX_RECORD_ADDRESS_BYTES } from '../constants.ts'
import { Message } from '../pb/rendezvous.ts'
import type { PeerId, PeerInfo } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Bytes: longer than any peer id. An inlined key takes at most 42 bytes of
 * identity multihash, and a hashed one is a 34-byte sha2-256 multihash.
 */
export const MAX_PEER_ID_BYTES = 64

/**
 * The two schemas on `/rendezvous/1.0.0`: the spec's, with signed peer
 * records, and the pre-2020 one with unsigned PeerInfo
 */
export type Schema = 'signed-record' | 'peer-info'

export type RecordField =
  /** Not a PeerInfo: verify it as a signed envelope (`openPeerRecord`), which garbage fails */
  | { kind: 'envelope' }
  /** A well-formed PeerInfo; `bytes` is its canonical encoding */
  | { kind: 'peer-info', peer: PeerInfo, bytes: Uint8Array }
  /** Shaped like a PeerInfo, but not a usable one; `reason` says why */
  | { kind: 'bad-peer-info', reason: string }

export interface ReadRecordFieldOptions {
  /** Most bytes of addresses a PeerInfo may hold. @default 2048, the cap go points apply */
  maxAddressBytes?: number
}

/** Length-delimited fields 1 and 2 of `bytes`, or undefined when it holds anything else or is not protobuf */
function peerInfoFields (bytes: Uint8Array): { ids: Uint8Array[], addrs: Uint8Array[] } | undefined {
  const ids: Uint8Array[] = []
  const addrs: Uint8Array[] = []
  let offset = 0
  const varint = (): number | undefined => {
    let value = 0
    // five bytes carry every key and every length a frame can hold
    for (let i = 0; i < 5 && offset < bytes.byteLength; i++) {
      const byte = bytes[offset++]
      value += (byte & 0x7f) * 2 ** (7 * i)
      if (byte < 0x80) return value
    }
    return undefined
  }
  while (offset < bytes.byteLength) {
    const key = varint()
    if (key !== 0x0a && key !== 0x12) return undefined
    const length = varint()
    if (length == null || offset + length > bytes.byteLength) return undefined
    const value = bytes.subarray(offset, offset + length)
    offset += length
    if (key === 0x0a) ids.push(value)
    else addrs.push(value)
  }
  return { ids, addrs }
}

/** The peer id an id field holds, or why it holds none */
function readPeerId (id: Uint8Array): PeerId | string {
  if (id.byteLength > MAX_PEER_ID_BYTES) return `peer info id is ${id.byteLength} bytes, longer than any peer id`
  try {
    // the legacy text form of a peer id is its multihash in base58btc
    return peerIdFromString(toBase58(id, 'base58btc'))
  } catch {
    return 'peer info id is not a peer id'
  }
}

/** The multiaddr an address field holds, when it is one and encoded the one way it encodes */
function readMultiaddr (bytes: Uint8Array): Multiaddr | undefined {
  try {
    const address = multiaddr(bytes)
    // a round trip through text catches what decodes loosely: invalid UTF-8 in a name, varints with padding
    if (address.getComponents().length === 0 || !equals(multiaddr(address.toString()).bytes, bytes)) return undefined
    return address
  } catch {
    return undefined
  }
}

/** What Register field 2 holds (see the module's comment for how the two schemas are told apart) */
export function readRecordField (bytes: Uint8Array, options: ReadRecordFieldOptions = {}): RecordField {
  const fields = peerInfoFields(bytes)
  if (fields == null) return { kind: 'envelope' }
  if (fields.ids.length !== 1) {
    return { kind: 'bad-peer-info', reason: fields.ids.length === 0 ? 'peer info has no id' : `peer info has ${fields.ids.length} ids` }
  }
  const id = readPeerId(fields.ids[0])
  if (typeof id === 'string') return { kind: 'bad-peer-info', reason: id }

  const maxAddressBytes = options.maxAddressBytes ?? MAX_RECORD_ADDRESS_BYTES
  const addressBytes = fields.addrs.reduce((sum, addr) => sum + addr.byteLength, 0)
  if (addressBytes > maxAddressBytes) {
    return { kind: 'bad-peer-info', reason: `peer info addresses are ${addressBytes} bytes, the limit is ${maxAddressBytes}` }
  }
  const multiaddrs: Multiaddr[] = []
  for (const [i, addr] of fields.addrs.entries()) {
    const address = readMultiaddr(addr)
    if (address == null) return { kind: 'bad-peer-info', reason: `peer info address ${i + 1} is not a multiaddr` }
    multiaddrs.push(address)
  }
  const peer = { id, multiaddrs }
  return { kind: 'peer-info', peer, bytes: encodePeerInfo(peer) }
}

/** A PeerInfo as the pre-2020 schema encodes it */
export function encodePeerInfo ({ id, multiaddrs }: PeerInfo): Uint8Array {
  return Message.PeerInfo.encode({ id: id.toMultihash().bytes, addrs: multiaddrs.map(ma => ma.bytes as Uint8Array<ArrayBuffer>) })
}

/**
 * The PeerInfo of a signed record that was verified when it arrived: its id
 * and addresses, for clients that read only PeerInfo. Nothing is verified
 * here, so it is only for records a point verified before storing them.
 */
export function peerInfoOfVerifiedRecord (signedPeerRecord: Uint8Array): Uint8Array {
  const record = PeerRecord.createFromProtobuf(RecordEnvelope.createFromProtobuf(signedPeerRecord).payload)
  return encodePeerInfo({ id: record.peerId, multiaddrs: record.multiaddrs })
}
