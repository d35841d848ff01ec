/**
 * The judge of a fuzz run: holds each stream's outcome against what its
 * pieces were owed (see fuzz-frames.ts), checks every answer on its own
 * terms, and keeps the counts a run reports. A registration the point
 * accepts is checked against the record with @libp2p/peer-record directly,
 * not with the point's own verification, so a point fooled by a forged
 * record cannot also fool its judge; a PeerInfo, with a reading of its own
 * (fuzz-peer-info.ts). Every registration is known by both forms a DISCOVER
 * may return it in: a signed one as its envelope and as the PeerInfo of its
 * record, an unsigned one as its PeerInfo only, so a spec answer can never
 * hold an unsigned registration and pass.
 */
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { equals } from 'uint8arrays/equals'
import { toString as toHex } from 'uint8arrays/to-string'
import { Message } from '../../../src/protocol/messages.ts'
import { namespaceByteLength } from '../../../src/protocol/namespace.ts'
import { LEGACY_ROUTING_STATE } from '../../fixtures/records.ts'
import { isUsablePeerInfo, peerInfoKey, readPeerInfo } from './fuzz-peer-info.ts'
import type { Expectation, Session } from './fuzz-frames.ts'
import type { Ending } from './direct-point.ts'
import type { PointPolicy } from '../../../src/server/handle-request.ts'
import type { StoredRegistration } from '../../../src/server/store/registration-store.ts'
import type { PeerId } from '@libp2p/interface'

export interface Outcome {
  frames: Uint8Array[]
  ending: Ending
  leftover: number
}

const REGISTER_STATUSES = new Set(['OK', 'E_INVALID_NAMESPACE', 'E_INVALID_SIGNED_PEER_RECORD', 'E_INVALID_TTL', 'E_NOT_AUTHORIZED', 'E_UNAVAILABLE'])
/**
 * The schema a connection is answered in, as the point decides it from
 * what the connection sent (see src/server/dialects.ts); 'either' when
 * sessions share a connection and run at once, so their order is unknown.
 */
type Schema = 'signed-record' | 'peer-info' | 'either'
const DISCOVER_STATUSES = new Set(['OK', 'E_INVALID_NAMESPACE', 'E_INVALID_COOKIE', 'E_UNAVAILABLE'])
const COOKIE_BYTES = 25
/** Failures kept in full; the rest are only counted */
const KEPT = 20

const verified = new Map<string, boolean>()

/**
 * Whether `bytes` is a record `owner` signed about itself, with addresses,
 * under the peer-record domain or rust's legacy one: checked with the
 * envelope library alone. Results are remembered per record and owner.
 */
async function isOwnRecord (bytes: Uint8Array, owner: PeerId): Promise<boolean> {
  const key = `${owner}/${toHex(bytes, 'base64')}`
  const known = verified.get(key)
  if (known != null) return known
  let valid = false
  try {
    const envelope = RecordEnvelope.createFromProtobuf(bytes)
    const domain = equals(envelope.payloadType, PeerRecord.CODEC)
      ? PeerRecord.DOMAIN
      : equals(envelope.payloadType, LEGACY_ROUTING_STATE.payloadType) ? LEGACY_ROUTING_STATE.domain : undefined
    if (domain != null && await envelope.validate(domain)) {
      const record = PeerRecord.createFromProtobuf(envelope.payload)
      valid = record.peerId.equals(owner) && peerIdFromPublicKey(envelope.publicKey).equals(owner) && record.multiaddrs.length > 0
    }
  } catch {
    valid = false
  }
  verified.set(key, valid)
  return valid
}

function registrationKey (namespace: string, record: Uint8Array): string {
  return `${namespace}\u0000${toHex(record, 'base64')}`
}

/** The PeerInfo form of a signed record: its peer and addresses */
function peerInfoKeyOfRecord (namespace: string, record: Uint8Array): string {
  const { peerId, multiaddrs } = PeerRecord.createFromProtobuf(RecordEnvelope.createFromProtobuf(record).payload)
  return peerInfoKey(namespace, peerId.toMultihash().bytes, multiaddrs.map(ma => ma.bytes))
}

export class FuzzLedger {
  frames = 0
  sessions = 0
  readonly categories = new Map<string, number>()
  readonly outcomes = { answered: 0, silent: 0, reset: 0, eof: 0 }
  readonly statuses = new Map<string, number>()
  failureCount = 0
  readonly failures: string[] = []
  /** Every (namespace, record) the point said OK to, and the legitimate ones: all a DISCOVER may ever return */
  private readonly accepted = new Set<string>()
  /** Registrations a DISCOVER returned before their REGISTER's OK was judged */
  private readonly unconfirmed = new Map<string, { session: Session, namespace: string }>()
  /** The legitimate registrations, which outlive every round */
  private readonly lasting = new Set<string>()

  /** `sharedConnections`: a peer's sessions run at once on one connection, so which schema each is answered in is not known */
  constructor (private readonly policy: Readonly<PointPolicy>, private readonly seed: number, private readonly sharedConnections = false) {}

  /** A signed record the point took: it may come back as itself or as its PeerInfo */
  accept (namespace: string, record: Uint8Array, lasting = false): void {
    this.remember([registrationKey(namespace, record), peerInfoKeyOfRecord(namespace, record)], lasting)
  }

  private remember (keys: string[], lasting: boolean): void {
    for (const key of keys) {
      this.accepted.add(key)
      if (lasting) this.lasting.add(key)
    }
  }

  /** Every registration a DISCOVER returned must be one the point accepted; call once no stream is in flight */
  settle (): void {
    for (const [key, { session, namespace }] of this.unconfirmed) {
      if (!this.accepted.has(key)) this.fail(`DISCOVER returned a registration in ${JSON.stringify(namespace)} the point never accepted`, session)
    }
    this.unconfirmed.clear()
  }

  /**
   * Once the fuzzers have unregistered, only the lasting registrations are
   * left to return; the judge forgets the rest, so that what it remembers
   * does not grow with the run and blur the point's own memory.
   */
  endRound (): void {
    this.settle()
    this.accepted.clear()
    for (const key of this.lasting) this.accepted.add(key)
    verified.clear()
  }

  private count (what: string): void {
    this.statuses.set(what, (this.statuses.get(what) ?? 0) + 1)
  }

  fail (what: string, session?: Session): void {
    this.failureCount++
    if (this.failures.length >= KEPT) return
    const pieces = session?.pieces.map(p => `${p.category}:${p.expect.kind}:${toHex(p.bytes.subarray(0, 96), 'base16')}`).join(' | ')
    this.failures.push(`[seed ${this.seed}, session ${this.sessions}] ${what}${pieces != null ? ` -- ${pieces}` : ''}`)
  }

  /** Hold one stream's outcome against what its pieces were owed */
  async check (session: Session, outcome: Outcome): Promise<void> {
    this.sessions++
    let next = 0
    let ended: 'reset' | 'eof' | undefined
    let schema: Schema = this.sharedConnections ? 'either' : 'signed-record'
    for (const piece of session.pieces) {
      this.frames++
      this.categories.set(piece.category, (this.categories.get(piece.category) ?? 0) + 1)
      const { expect } = piece
      if (expect.kind === 'answer') {
        const frame = outcome.frames[next++]
        if (frame == null) {
          this.fail(`no answer to a ${expect.type} (stream ${outcome.ending} after ${next - 1} answers)`, session)
          return
        }
        this.outcomes.answered++
        // what the request shows of its schema counts from the request itself on, refused or not
        const { request } = expect
        if (!this.sharedConnections && request.type === 'REGISTER' && request.record != null) schema = request.record.kind === 'envelope' ? 'signed-record' : 'peer-info'
        if (!this.sharedConnections && request.type === 'DISCOVER_SUBSCRIBE') schema = 'peer-info'
        await this.checkAnswer(expect, frame, session, schema)
      } else if (expect.kind === 'silent') {
        this.outcomes.silent++
      } else {
        this.outcomes[expect.kind]++
        ended = expect.kind
        break
      }
    }
    if (next < outcome.frames.length) this.fail(`${outcome.frames.length - next} answers more than requests owed`, session)
    const ending = ended === 'reset' ? 'reset' : 'closed'
    if (outcome.ending !== ending) this.fail(`stream ${outcome.ending}, expected ${ending}`, session)
    if (outcome.leftover !== 0) this.fail(`${outcome.leftover} bytes of a partial frame written`, session)
  }

  private async checkAnswer (expect: Extract<Expectation, { kind: 'answer' }>, frame: Uint8Array, session: Session, schema: Schema): Promise<void> {
    let message: Message
    try {
      message = Message.decode(frame)
    } catch (err: any) {
      this.fail(`an undecodable answer: ${err?.message}`, session)
      return
    }
    const { request } = expect
    if (request.type === 'DISCOVER_SUBSCRIBE') {
      const status = message.discoverSubscribeResponse?.status ?? 'absent'
      this.statuses.set(`DISCOVER_SUBSCRIBE ${status}`, (this.statuses.get(`DISCOVER_SUBSCRIBE ${status}`) ?? 0) + 1)
      if (message.type !== Message.MessageType.DISCOVER_SUBSCRIBE_RESPONSE || status !== 'E_INTERNAL_ERROR') this.fail(`a DISCOVER_SUBSCRIBE answered with ${message.type} ${status}`, session)
      return
    }
    if (request.type === 'REGISTER') {
      const response = message.registerResponse
      if (message.type !== Message.MessageType.REGISTER_RESPONSE || response == null) {
        this.fail(`a REGISTER answered with ${message.type}`, session)
        return
      }
      const status = response.status ?? 'absent'
      const schema = request.record != null && request.record.kind !== 'envelope' ? ' (PeerInfo)' : ''
      this.count(`REGISTER${schema} ${status}`)
      if (!REGISTER_STATUSES.has(status)) this.fail(`REGISTER answered with status ${status}`, session)
      if (status !== 'OK') return
      const namespace = request.namespace ?? ''
      const expectedTtl = request.ttl ?? this.policy.defaultTtl
      if (response.ttl !== BigInt(expectedTtl) || expectedTtl < this.policy.minTtl || expectedTtl > this.policy.maxTtl) {
        this.fail(`REGISTER granted ttl ${response.ttl} for ${request.ttl}`, session)
      }
      const length = namespaceByteLength(namespace)
      if (length < 1 || length > this.policy.maxNamespaceLength) this.fail(`REGISTER accepted a namespace of ${length} bytes`, session)
      const record = request.signedPeerRecord ?? new Uint8Array()
      const peerInfo = readPeerInfo(record)
      if (peerInfo != null) {
        if (!isUsablePeerInfo(peerInfo, session.sender.peerId, this.policy.allowEmptyAddresses)) {
          this.fail('REGISTER accepted a PeerInfo that is not the sender\'s own, or not a usable one', session)
          return
        }
        this.remember([peerInfoKey(namespace, peerInfo.id, peerInfo.addresses)], false)
        return
      }
      if (!await isOwnRecord(record, session.sender.peerId)) {
        this.fail('REGISTER accepted a record that is not the sender\'s own', session)
        return
      }
      this.accept(namespace, record)
      return
    }

    const response = message.discoverResponse
    if (message.type !== Message.MessageType.DISCOVER_RESPONSE || response == null) {
      this.fail(`a DISCOVER answered with ${message.type}`, session)
      return
    }
    const status = response.status ?? 'absent'
    this.statuses.set(`DISCOVER ${status}`, (this.statuses.get(`DISCOVER ${status}`) ?? 0) + 1)
    if (!DISCOVER_STATUSES.has(status)) this.fail(`DISCOVER answered with status ${status}`, session)
    if (status !== 'OK') return
    const asked = request.type === 'DISCOVER' ? request : undefined
    const cap = asked?.limit != null && asked.limit > 0 ? Math.min(asked.limit, this.policy.maxDiscoverLimit) : this.policy.maxDiscoverLimit
    if (response.registrations.length > cap) this.fail(`DISCOVER returned ${response.registrations.length} for a cap of ${cap}`, session)
    if (response.cookie?.byteLength !== COOKIE_BYTES) this.fail(`DISCOVER returned a cookie of ${response.cookie?.byteLength} bytes`, session)
    const namespace = asked?.namespace === '' ? undefined : asked?.namespace
    let page: Schema | undefined
    for (const registration of response.registrations) {
      const record = registration.signedPeerRecord ?? new Uint8Array()
      if (namespace != null && registration.ns !== namespace) this.fail(`DISCOVER for ${namespace} returned one in ${registration.ns}`, session)
      if (registration.ttl == null || registration.ttl < 1n) this.fail(`DISCOVER returned a ttl of ${registration.ttl}`, session)
      const peerInfo = readPeerInfo(record)
      const form = peerInfo != null ? 'peer-info' : 'signed-record'
      if (schema !== 'either' && form !== schema) this.fail(`a DISCOVER to be answered in ${schema} returned a registration in ${form}`, session)
      if (page != null && form !== page) this.fail('a DISCOVER answer mixes signed records and PeerInfo', session)
      if (page == null && form === 'peer-info') this.count('DISCOVER answered in PeerInfo')
      page = form
      const key = peerInfo != null ? peerInfoKey(registration.ns ?? '', peerInfo.id, peerInfo.addresses) : registrationKey(registration.ns ?? '', record)
      // with streams in flight at once, the OK for it may be on its way to its judge still: decided in settle()
      if (!this.accepted.has(key)) this.unconfirmed.set(key, { session, namespace: registration.ns ?? '' })
    }
  }

  /** Every registration a store holds must be a record its peer signed about itself, or a usable PeerInfo of its own, marked unsigned */
  async checkStored (registrations: StoredRegistration[]): Promise<void> {
    for (const registration of registrations) {
      const peerId = peerIdFromString(registration.peerId)
      const peerInfo = readPeerInfo(registration.signedPeerRecord)
      const own = registration.unsigned === true
        ? peerInfo != null && isUsablePeerInfo(peerInfo, peerId, this.policy.allowEmptyAddresses)
        : await isOwnRecord(registration.signedPeerRecord, peerId)
      if (!own) this.fail(`the store holds a registration that is not ${registration.peerId}'s own in ${registration.namespace}`)
    }
  }

  summary (): Record<string, unknown> {
    return {
      seed: this.seed,
      frames: this.frames,
      sessions: this.sessions,
      ...this.outcomes,
      failures: this.failureCount,
      categories: Object.fromEntries(this.categories),
      statuses: Object.fromEntries(this.statuses)
    }
  }
}

/** What a store holds, in a form that compares: peer, namespace, record and seq of each registration */
export function snapshot (registrations: StoredRegistration[]): string[] {
  return registrations.map(r => `${r.peerId} ${r.namespace} ${r.seq} ${toHex(r.signedPeerRecord, 'base64')}`).sort()
}
