import { InvalidSignedPeerRecordError } from '../errors.ts'
import { ed25519 } from '@noble/curves/ed25519.js'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { encode } from 'uint8-varint'
import { concat } from 'uint8arrays/concat'
import { equals } from 'uint8arrays/equals'
import type { AbortOptions, PeerId, PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * rust-libp2p's rendezvous signs peer records under the routing-state names of
 * RFC 0003 rather than the ones go, js and nim use. The payload is the same
 * PeerRecord, so such a record is just as verifiable once we know its domain.
 */
const LEGACY_DOMAIN = 'libp2p-routing-state'
const LEGACY_PAYLOAD_TYPE = new TextEncoder().encode('/libp2p/routing-state-record')

/** A signed peer record whose signature and signer have been checked */
export interface VerifiedPeerRecord {
  peerId: PeerId
  multiaddrs: Multiaddr[]
  seq: bigint
}

export interface OpenPeerRecordOptions extends AbortOptions {
  /** Accept records signed under rust-libp2p's legacy domain. @default true */
  acceptLegacyDomain?: boolean
}

/** The envelope of `bytes` and the domain its payload type is signed under; throws when it is not a peer record */
function envelopeOf (bytes: Uint8Array, acceptLegacyDomain = true): { envelope: RecordEnvelope, domain: string } {
  let envelope: RecordEnvelope
  try {
    envelope = RecordEnvelope.createFromProtobuf(bytes)
  } catch {
    throw new InvalidSignedPeerRecordError('envelope does not decode')
  }
  if (equals(envelope.payloadType, PeerRecord.CODEC)) return { envelope, domain: PeerRecord.DOMAIN }
  if (acceptLegacyDomain && equals(envelope.payloadType, LEGACY_PAYLOAD_TYPE)) return { envelope, domain: LEGACY_DOMAIN }
  throw new InvalidSignedPeerRecordError('envelope does not hold a peer record')
}

/** The record in an envelope whose signature verified: it must decode and be of the peer who signed it */
function recordOf (envelope: RecordEnvelope, valid: boolean): VerifiedPeerRecord {
  if (!valid) {
    throw new InvalidSignedPeerRecordError('signature does not verify')
  }
  let record: PeerRecord
  try {
    record = PeerRecord.createFromProtobuf(envelope.payload)
  } catch {
    throw new InvalidSignedPeerRecordError('peer record does not decode')
  }
  if (!peerIdFromPublicKey(envelope.publicKey).equals(record.peerId)) {
    throw new InvalidSignedPeerRecordError('record is signed by another peer')
  }
  return { peerId: record.peerId, multiaddrs: record.multiaddrs, seq: record.seqNumber }
}

/**
 * Verify a signed peer record envelope from the wire: the envelope must parse,
 * carry a peer record, be signed for the peer-record domain, and be signed by
 * the very peer the record describes. Throws `InvalidSignedPeerRecordError`
 * saying which check failed.
 */
export async function openPeerRecord (bytes: Uint8Array, options: OpenPeerRecordOptions = {}): Promise<VerifiedPeerRecord> {
  const { envelope, domain } = envelopeOf(bytes, options.acceptLegacyDomain)
  let valid = false
  try {
    valid = await envelope.validate(domain, options)
  } catch {
    // a key that cannot verify is as bad as a signature that does not
  }
  return recordOf(envelope, valid)
}

/**
 * `openPeerRecord` without leaving the running task: the signature is checked
 * in JavaScript rather than by WebCrypto, whose answer comes as a task of its
 * own. Much slower per record, so only for the few a warm start shows before
 * anything else can run. Ed25519 keys only: undefined for any other key,
 * which only `openPeerRecord` can verify.
 */
export function openPeerRecordNow (bytes: Uint8Array): VerifiedPeerRecord | undefined {
  const { envelope, domain } = envelopeOf(bytes)
  if (envelope.publicKey.type !== 'Ed25519') return undefined
  // what the signature covers: the domain, the payload type and the payload, each after its length
  const signed = concat([domain, envelope.payloadType, envelope.payload].flatMap(part => {
    const bytes = typeof part === 'string' ? new TextEncoder().encode(part) : part
    return [encode(bytes.length), bytes]
  }))
  let valid = false
  try {
    valid = ed25519.verify(envelope.signature, signed, envelope.publicKey.raw)
  } catch {
    // a malformed signature or key is as bad as one that does not verify
  }
  return recordOf(envelope, valid)
}

/**
 * Whose record `bytes` holds and its sequence number, read without checking
 * the signature: enough to tell which of several records of one peer is the
 * newest before paying for verification. Undefined when it does not parse.
 */
export function peekPeerRecord (bytes: Uint8Array): { peerId: string, seq: bigint } | undefined {
  try {
    const record = PeerRecord.createFromProtobuf(RecordEnvelope.createFromProtobuf(bytes).payload)
    return { peerId: record.peerId.toString(), seq: record.seqNumber }
  } catch {
    return undefined
  }
}

/** Seal our own peer record in a signed envelope, ready for REGISTER */
export async function sealPeerRecord (privateKey: PrivateKey, multiaddrs: Multiaddr[], seq: bigint, options?: AbortOptions): Promise<Uint8Array> {
  const record = new PeerRecord({ peerId: peerIdFromPublicKey(privateKey.publicKey), multiaddrs, seqNumber: seq })
  const envelope = await RecordEnvelope.seal(record, privateKey, options)
  return envelope.marshal()
}
