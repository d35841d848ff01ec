import { equals } from 'uint8arrays/equals'
import { namespaceByteLength, namespaceProblem } from '../protocol/namespace.ts'
import { discoverError, discoverOk, discoverSubscribeError, registerError, registerOk } from '../protocol/messages.ts'
import { peerInfoOfVerifiedRecord } from '../protocol/peer-info.ts'
import { openPeerRecord } from '../protocol/peer-record.ts'
import { soleRelay } from './relay-path.ts'
import { second } from '../constants.ts'
import type { Cookies } from './cookies.ts'
import type { RegistrationStore, StoredRegistration } from './store/registration-store.ts'
import type { Message, Request, SubscribeRequest, WireRegistration } from '../protocol/messages.ts'
import type { Schema } from '../protocol/peer-info.ts'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The limits a point enforces, all resolved to numbers */
export interface PointPolicy {
  /** Seconds */
  minTtl: number
  /** Seconds */
  maxTtl: number
  /** Seconds, granted when a REGISTER names no TTL */
  defaultTtl: number
  maxNamespaceLength: number
  maxRegistrationsPerPeer: number
  maxRegistrations: number
  maxDiscoverLimit: number
  allowEmptyAddresses: boolean
  acceptLegacyRecords: boolean
  servePeerInfoClients: boolean
}

export interface RequestContext {
  /** The authenticated peer on the other end of the connection */
  remotePeer: PeerId
  /** Milliseconds since the epoch */
  now: number
  store: RegistrationStore
  cookies: Cookies
  policy: PointPolicy
  /** The schema the peer reads, as far as the point can tell (see dialects.ts); DISCOVER answers in it. @default 'signed-record' */
  schema?: Schema
}

/**
 * One request in, at most one response out: the whole protocol, apart from
 * streams. Store failures propagate; the caller maps them to a status.
 */
export async function handleRequest (request: Request | SubscribeRequest, context: RequestContext): Promise<Message | undefined> {
  switch (request.type) {
    case 'REGISTER': return handleRegister(request, context)
    case 'UNREGISTER': return handleUnregister(request, context)
    case 'DISCOVER': return handleDiscover(request, context)
    // berty's answer when it has no channel of the kind asked for; its clients then poll
    case 'DISCOVER_SUBSCRIBE': return discoverSubscribeError('subscription type not found: this point has no subscriptions, poll with DISCOVER')
  }
}

/** A REGISTER's record once checked: what the store keeps of it */
interface CheckedRecord {
  /** The signed envelope, or the PeerInfo re-encoded from what was read */
  bytes: Uint8Array
  seq: bigint
  unsigned: boolean
  multiaddrs: Multiaddr[]
}

/** The record a REGISTER carries, checked, or the answer that refuses it */
async function checkRecord (request: Extract<Request, { type: 'REGISTER' }>, { remotePeer, policy }: RequestContext): Promise<CheckedRecord | Message> {
  const { record, signedPeerRecord } = request
  if (record == null || signedPeerRecord == null) return registerError('E_INVALID_SIGNED_PEER_RECORD', 'signed peer record is missing')
  if (record.kind !== 'envelope' && !policy.servePeerInfoClients) {
    return registerError('E_INVALID_SIGNED_PEER_RECORD', 'this point takes signed peer records only, not an unsigned peer info')
  }
  switch (record.kind) {
    case 'bad-peer-info':
      return registerError('E_INVALID_SIGNED_PEER_RECORD', record.reason)
    case 'peer-info':
      // the connection authenticates the sender; a PeerInfo can only ever speak for it
      if (!record.peer.id.equals(remotePeer)) return registerError('E_NOT_AUTHORIZED', `the peer info is of ${record.peer.id}, not of the registering peer`)
      return { bytes: record.bytes, seq: 0n, unsigned: true, multiaddrs: record.peer.multiaddrs }
    case 'envelope': {
      let verified
      try {
        verified = await openPeerRecord(signedPeerRecord, { acceptLegacyDomain: policy.acceptLegacyRecords })
      } catch (err: any) {
        return registerError('E_INVALID_SIGNED_PEER_RECORD', err.statusText ?? 'signed peer record is invalid')
      }
      // the spec lets a peer register only itself; a valid record of someone else is a question of authority, not of validity
      if (!verified.peerId.equals(remotePeer)) {
        return registerError('E_NOT_AUTHORIZED', `the record is of ${verified.peerId}, not of the registering peer`)
      }
      return { bytes: signedPeerRecord, seq: verified.seq, unsigned: false, multiaddrs: verified.multiaddrs }
    }
  }
}

async function handleRegister (request: Extract<Request, { type: 'REGISTER' }>, context: RequestContext): Promise<Message> {
  const { remotePeer, now, store, policy } = context
  const problem = namespaceProblem(request.namespace, policy.maxNamespaceLength)
  if (problem != null) return registerError('E_INVALID_NAMESPACE', problem)

  const record = await checkRecord(request, context)
  if (!('bytes' in record)) return record
  const what = record.unsigned ? 'peer info' : 'record'
  if (record.multiaddrs.length === 0 && !policy.allowEmptyAddresses) {
    return registerError('E_INVALID_SIGNED_PEER_RECORD', `the ${what} has no addresses`)
  }

  const ttl = request.ttl ?? policy.defaultTtl
  if (!Number.isInteger(ttl) || ttl < policy.minTtl || ttl > policy.maxTtl) {
    return registerError('E_INVALID_TTL', `ttl must be between ${policy.minTtl} and ${policy.maxTtl} seconds`)
  }

  const outcome = await store.register({
    peerId: remotePeer.toString(),
    namespace: request.namespace as string,
    signedPeerRecord: record.bytes,
    ...(record.unsigned ? { unsigned: true } : {}),
    seq: record.seq,
    expiresAt: now + ttl * second,
    relayedVia: soleRelay(record.multiaddrs)
  }, { maxPerPeer: policy.maxRegistrationsPerPeer, maxTotal: policy.maxRegistrations }, now)

  if (outcome.ok) return registerOk(ttl)
  switch (outcome.reason) {
    case 'peer-limit':
      return registerError('E_NOT_AUTHORIZED', `a peer may hold at most ${policy.maxRegistrationsPerPeer} registrations`)
    case 'total-limit':
      return registerError('E_UNAVAILABLE', 'this point is full, try again later')
    case 'stale-record':
      // an unsigned registration has seq 0, so it cannot replace a signed one: spec clients would silently lose the peer
      return record.unsigned
        ? registerError('E_NOT_AUTHORIZED', `a signed record of this peer is registered in ${request.namespace as string}; an unsigned peer info cannot replace it before it expires or is unregistered`)
        : registerError('E_INVALID_SIGNED_PEER_RECORD', `the record is older than the registered one (seq ${record.seq} < ${outcome.currentSeq})`)
  }
}

async function handleUnregister (request: Extract<Request, { type: 'UNREGISTER' }>, { remotePeer, now, store, policy }: RequestContext): Promise<undefined> {
  // legacy senders name the peer; a name other than the sender's is not theirs to remove
  if (request.legacyId != null && !equals(request.legacyId, remotePeer.toMultihash().bytes)) return
  // go reads an empty namespace as "all of mine"; it can only ever touch the sender's own registrations
  const all = request.namespace == null || request.namespace === ''
  if (!all && namespaceByteLength(request.namespace as string) > policy.maxNamespaceLength) return
  await store.unregister(remotePeer.toString(), all ? undefined : request.namespace, now)
}

async function handleDiscover (request: Extract<Request, { type: 'DISCOVER' }>, { now, store, cookies, policy, schema = 'signed-record' }: RequestContext): Promise<Message> {
  // absent is the spec's "all namespaces"; go sends "" for the same thing
  const namespace = request.namespace === '' ? undefined : request.namespace
  if (namespace != null && namespaceByteLength(namespace) > policy.maxNamespaceLength) {
    return discoverError('E_INVALID_NAMESPACE', `namespace is longer than ${policy.maxNamespaceLength} bytes`)
  }

  // an explicit 0 means "no preference" to go, py and canvas; no one asks for an empty page on purpose
  const limit = request.limit == null || request.limit === 0 ? policy.maxDiscoverLimit : Math.min(request.limit, policy.maxDiscoverLimit)

  let after = 0n
  if (request.cookie != null && request.cookie.byteLength > 0) {
    const cursor = await cookies.open(namespace, request.cookie)
    if (cursor == null) return discoverError('E_INVALID_COOKIE', 'the cookie was not issued by this point for this namespace')
    after = cursor
  }

  // spec clients read signed records only: the store leaves the unsigned ones out, and pages stay full
  const page = await store.discover(namespace, after, limit, now, { signedOnly: schema === 'signed-record' })
  const registrations: WireRegistration[] = []
  for (const registration of page.registrations) {
    const field = schema === 'peer-info' ? asPeerInfo(registration) : registration.signedPeerRecord
    if (field == null) continue
    registrations.push({ namespace: registration.namespace, signedPeerRecord: field, ttl: Math.max(1, Math.ceil((registration.expiresAt - now) / second)) })
  }
  return discoverOk(registrations, await cookies.seal(namespace, page.cursor))
}

/** A registration as pre-2020 clients read it: a PeerInfo, from the verified record when it was signed */
function asPeerInfo (registration: StoredRegistration): Uint8Array | undefined {
  if (registration.unsigned === true) return registration.signedPeerRecord
  try {
    return peerInfoOfVerifiedRecord(registration.signedPeerRecord)
  } catch {
    // verified when it came in; should the store hand back something else, one entry is not worth the page
    return undefined
  }
}
