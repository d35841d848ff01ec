import { equals } from 'uint8arrays/equals'
import { namespaceByteLength, namespaceProblem } from '../protocol/namespace.ts'
import { discoverError, discoverOk, registerError, registerOk } from '../protocol/messages.ts'
import { openPeerRecord } from '../protocol/peer-record.ts'
import { soleRelay } from './relay-path.ts'
import { second } from '../constants.ts'
import type { Cookies } from './cookies.ts'
import type { RegistrationStore } from './store/registration-store.ts'
import type { Message, Request } from '../protocol/messages.ts'
import type { PeerId } from '@libp2p/interface'

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
}

export interface RequestContext {
  /** The authenticated peer on the other end of the connection */
  remotePeer: PeerId
  /** Milliseconds since the epoch */
  now: number
  store: RegistrationStore
  cookies: Cookies
  policy: PointPolicy
}

/**
 * One request in, at most one response out: the whole protocol, apart from
 * streams. Store failures propagate; the caller maps them to a status.
 */
export async function handleRequest (request: Request, context: RequestContext): Promise<Message | undefined> {
  switch (request.type) {
    case 'REGISTER': return handleRegister(request, context)
    case 'UNREGISTER': return handleUnregister(request, context)
    case 'DISCOVER': return handleDiscover(request, context)
  }
}

async function handleRegister (request: Extract<Request, { type: 'REGISTER' }>, { remotePeer, now, store, policy }: RequestContext): Promise<Message> {
  const problem = namespaceProblem(request.namespace, policy.maxNamespaceLength)
  if (problem != null) return registerError('E_INVALID_NAMESPACE', problem)

  if (request.signedPeerRecord == null || request.signedPeerRecord.byteLength === 0) {
    return registerError('E_INVALID_SIGNED_PEER_RECORD', 'signed peer record is missing')
  }
  let record
  try {
    record = await openPeerRecord(request.signedPeerRecord, { acceptLegacyDomain: policy.acceptLegacyRecords })
  } catch (err: any) {
    return registerError('E_INVALID_SIGNED_PEER_RECORD', err.statusText ?? 'signed peer record is invalid')
  }
  // the spec lets a peer register only itself; a valid record of someone else is a question of authority, not of validity
  if (!record.peerId.equals(remotePeer)) {
    return registerError('E_NOT_AUTHORIZED', `the record is of ${record.peerId}, not of the registering peer`)
  }
  if (record.multiaddrs.length === 0 && !policy.allowEmptyAddresses) {
    return registerError('E_INVALID_SIGNED_PEER_RECORD', 'the record has no addresses')
  }

  const ttl = request.ttl ?? policy.defaultTtl
  if (!Number.isInteger(ttl) || ttl < policy.minTtl || ttl > policy.maxTtl) {
    return registerError('E_INVALID_TTL', `ttl must be between ${policy.minTtl} and ${policy.maxTtl} seconds`)
  }

  const outcome = await store.register({
    peerId: remotePeer.toString(),
    namespace: request.namespace as string,
    signedPeerRecord: request.signedPeerRecord,
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
      return registerError('E_INVALID_SIGNED_PEER_RECORD', `the record is older than the registered one (seq ${record.seq} < ${outcome.currentSeq})`)
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

async function handleDiscover (request: Extract<Request, { type: 'DISCOVER' }>, { now, store, cookies, policy }: RequestContext): Promise<Message> {
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

  const page = await store.discover(namespace, after, limit, now)
  return discoverOk(page.registrations.map(r => ({
    namespace: r.namespace,
    signedPeerRecord: r.signedPeerRecord,
    ttl: Math.max(1, Math.ceil((r.expiresAt - now) / second))
  })), await cookies.seal(namespace, page.cursor))
}
