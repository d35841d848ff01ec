import { InvalidMessageError, InvalidParametersError, serviceCapabilities } from '@libp2p/interface'
import { randomBytes } from '@libp2p/crypto'
import { DEFAULT_MAX_REGISTRATIONS, DEFAULT_MIN_TTL, DEFAULT_REQUEST_TIMEOUT, DEFAULT_TTL, MAX_DISCOVER_LIMIT, MAX_NAMESPACE_LENGTH, MAX_REGISTRATIONS_PER_PEER, MAX_REQUEST_SIZE, MAX_TTL, RENDEZVOUS_PROTOCOL, minute } from '../constants.ts'
import { discoverError, parseRequest, parseSubscribeRequest, registerError } from '../protocol/messages.ts'
import { rendezvousStream } from '../protocol/stream.ts'
import { Cookies } from './cookies.ts'
import { Departures } from './departures.ts'
import { Dialects } from './dialects.ts'
import { handleRequest } from './handle-request.ts'
import { memoryStore } from './store/memory-store.ts'
import type { DeparturesComponents } from './departures.ts'
import type { PointPolicy } from './handle-request.ts'
import type { RegistrationStore } from './store/registration-store.ts'
import type { Message, Request, SubscribeRequest } from '../protocol/messages.ts'
import type { Schema } from '../protocol/peer-info.ts'
import type { ComponentLogger, Connection, Logger, PeerId, PeerStore, Startable, Stream } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'

export interface RendezvousServerInit {
  /** Protocol ids to serve. @default ['/rendezvous/1.0.0'] */
  protocols?: string[]
  /** Shortest TTL admitted, in seconds. The spec recommends 2 h; browser tabs come and go faster. @default 120 */
  minTtl?: number
  /** Longest TTL admitted, in seconds; at most 72 h. @default 259200 (72 h) */
  maxTtl?: number
  /** TTL granted when a REGISTER names none, in seconds. @default 7200 (2 h) */
  defaultTtl?: number
  /** Longest namespace, in UTF-8 bytes. @default 255 */
  maxNamespaceLength?: number
  /** Namespaces one peer may be registered in at once. @default 1000 */
  maxRegistrationsPerPeer?: number
  /** Registrations held at once, over all peers. @default 100_000 */
  maxRegistrations?: number
  /** Most registrations in one DISCOVER response. @default 1000 */
  maxDiscoverLimit?: number
  /** Longest request frame, in bytes. @default 65536 */
  maxMessageSize?: number
  /** Milliseconds a stream may wait for a whole request, and then for its response to be sent. @default 10_000 */
  timeout?: number
  /** Concurrent rendezvous streams from one connection. @default 8 */
  maxInboundStreams?: number
  /** Milliseconds between sweeps that drop expired registrations from memory. @default 60_000 */
  gcInterval?: number
  /** Accept records without addresses (go and waku points refuse them). @default false */
  allowEmptyAddresses?: boolean
  /** Accept records signed under rust-libp2p's legacy routing-state domain. @default true */
  acceptLegacyRecords?: boolean
  /**
   * Serve clients of the pre-2020 schema (py-libp2p, berty's go): take their
   * unsigned PeerInfo registrations (stored marked unsigned, never shown to
   * spec clients) and answer their DISCOVERs in PeerInfo. When false, a
   * PeerInfo REGISTER gets E_INVALID_SIGNED_PEER_RECORD. @default true
   */
  servePeerInfoClients?: boolean
  /**
   * Drop a peer's registrations as soon as its last connection to this
   * point closes, when every address in its record is a relay path through
   * this point (a browser's, typically): nobody can reach it any more. A
   * registration with any other address stays until it expires or is
   * unregistered. With a shared store, only the point the peer was connected
   * to drops, and only what is relayed through that point.
   * @default true
   */
  dropOnDisconnect?: boolean
  /** Key for cookie MACs; points that share a store must share it too. @default the store's `cookieSecret`, else 32 random bytes */
  cookieSecret?: Uint8Array
  /** @default an in-memory store */
  store?: RegistrationStore
  /** Milliseconds since the epoch. @default Date.now */
  now?(): number
  /** Told of every request a peer sends, before it is served: for an access log (`--log-requests`) */
  onRequest?(request: ServedRequest): void
}

/** A request as `onRequest` sees it */
export interface ServedRequest {
  type: 'REGISTER' | 'UNREGISTER' | 'DISCOVER' | 'DISCOVER_SUBSCRIBE'
  /** As the peer sent it; absent for an UNREGISTER or DISCOVER of every namespace */
  namespace?: string
  peer: PeerId
}

export interface RendezvousServerComponents extends DeparturesComponents {
  registrar: Registrar
  logger: ComponentLogger
  /** With `events`, where the point learns which peers run py-libp2p (see dialects.ts) */
  peerStore?: PeerStore
}

/** A rendezvous point, running inside a libp2p node */
export interface RendezvousServer extends Startable {
  /** Unexpired registrations per namespace */
  getNamespaceStats(): Promise<Map<string, number>>
  /** The limits in force */
  readonly policy: Readonly<PointPolicy>
}

export class RendezvousPoint implements RendezvousServer {
  readonly [Symbol.toStringTag] = 'libp2p-rendezvous:server'
  readonly [serviceCapabilities]: string[] = ['@libp2p/rendezvous-server']
  readonly policy: Readonly<PointPolicy>

  private readonly components: RendezvousServerComponents
  private readonly log: Logger
  private readonly protocols: string[]
  private readonly store: RegistrationStore
  private readonly cookies: Cookies
  private readonly dialects: Dialects
  private readonly now: () => number
  private readonly onRequest?: (request: ServedRequest) => void
  private readonly timeout: number
  private readonly maxMessageSize: number
  private readonly maxInboundStreams: number
  private readonly gcInterval: number
  private readonly departures?: Departures
  private gcTimer?: ReturnType<typeof setInterval>
  private started = false

  constructor (components: RendezvousServerComponents, init: RendezvousServerInit = {}) {
    this.components = components
    this.log = components.logger.forComponent('libp2p:rendezvous:server')
    this.protocols = init.protocols ?? [RENDEZVOUS_PROTOCOL]
    this.policy = resolvePolicy(init)
    this.store = init.store ?? memoryStore()
    this.cookies = new Cookies(init.cookieSecret ?? this.store.cookieSecret ?? randomBytes(32))
    this.dialects = new Dialects(components)
    this.now = init.now ?? Date.now
    this.onRequest = init.onRequest
    this.timeout = init.timeout ?? DEFAULT_REQUEST_TIMEOUT
    this.maxMessageSize = init.maxMessageSize ?? MAX_REQUEST_SIZE
    this.maxInboundStreams = init.maxInboundStreams ?? 8
    this.gcInterval = init.gcInterval ?? minute
    if (init.dropOnDisconnect !== false) this.departures = new Departures(components, this.store, this.now, this.log)
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    if (this.started) return
    for (const protocol of this.protocols) {
      await this.components.registrar.handle(protocol, this.onStream, {
        maxInboundStreams: this.maxInboundStreams,
        // browsers reach us through relays; a registration is a few hundred bytes
        runOnLimitedConnection: true
      })
    }
    this.gcTimer = setInterval(() => { void this.collectGarbage() }, this.gcInterval)
    // a sweep timer alone must not keep a Node process alive
    if (typeof this.gcTimer === 'object') this.gcTimer.unref?.()
    this.dialects.start()
    this.departures?.start()
    this.started = true
  }

  /**
   * The node closes every connection when it stops; those are not peers
   * leaving, and a point that stops leaves their registrations to expire, as
   * one that crashes does
   */
  beforeStop (): void {
    this.departures?.stop()
  }

  async stop (): Promise<void> {
    if (!this.started) return
    clearInterval(this.gcTimer)
    this.dialects.stop()
    this.departures?.stop()
    for (const protocol of this.protocols) {
      await this.components.registrar.unhandle(protocol)
    }
    this.started = false
  }

  async getNamespaceStats (): Promise<Map<string, number>> {
    return this.store.namespaceStats(this.now())
  }

  /** Serve requests in order until the remote closes its side; every wait is bounded */
  private readonly onStream = async (stream: Stream, connection: Connection): Promise<void> => {
    const log = stream.log.newScope('rendezvous')
    const messages = rendezvousStream(stream, this.maxMessageSize)
    try {
      while (true) {
        const signal = AbortSignal.timeout(this.timeout)
        let message: Message
        try {
          message = await messages.read({ signal })
        } catch (err: any) {
          if (err?.name === 'UnexpectedEOFError') break
          throw err
        }
        const request = parseRequest(message) ?? parseSubscribeRequest(message)
        if (request == null) throw new InvalidMessageError(`not a request: ${message.type}`)
        const schema = this.policy.servePeerInfoClients ? this.dialects.heard(request, connection) ?? await this.dialects.lookUp(connection, { signal }) : 'signed-record'
        log.trace('%s from %p (%s)', request.type, connection.remotePeer, schema)
        const response = await this.respond(request, connection, schema, log)
        if (response != null) await messages.write(response, { signal })
      }
      await stream.close({ signal: AbortSignal.timeout(this.timeout) })
    } catch (err: any) {
      log.error('closing stream from %p - %e', connection.remotePeer, err)
      stream.abort(err)
    }
  }

  private async respond (request: Request | SubscribeRequest, connection: Connection, schema: Schema, log: Logger): Promise<Message | undefined> {
    try {
      this.onRequest?.({ type: request.type, namespace: request.namespace, peer: connection.remotePeer })
      if (request.type === 'REGISTER') await this.departures?.settled(connection.remotePeer)
      const response = await handleRequest(request, {
        remotePeer: connection.remotePeer,
        now: this.now(),
        store: this.store,
        cookies: this.cookies,
        policy: this.policy,
        schema
      })
      if (request.type === 'REGISTER') this.departures?.registered(connection)
      if (request.type === 'REGISTER' && request.record?.kind === 'peer-info' && response?.registerResponse?.status === 'OK') {
        this.log('registered %p in %s with an unsigned PeerInfo: its addresses are its own word, not signed', connection.remotePeer, request.namespace)
      }
      return response
    } catch (err: any) {
      log.error('%s from %p failed - %e', request.type, connection.remotePeer, err)
      const status = err?.name === 'StoreUnavailableError' ? 'E_UNAVAILABLE' : 'E_INTERNAL_ERROR'
      const text = status === 'E_UNAVAILABLE' ? 'storage is unavailable, try again later' : 'internal error'
      if (request.type === 'REGISTER') return registerError(status, text)
      if (request.type === 'DISCOVER') return discoverError(status, text)
      return undefined
    }
  }

  private async collectGarbage (): Promise<void> {
    try {
      const pruned = await this.store.prune(this.now())
      if (pruned > 0) this.log('pruned %d expired registrations', pruned)
    } catch (err) {
      this.log.error('pruning failed - %e', err)
    }
  }
}

/** `init` over the defaults; throws InvalidParametersError when its TTLs or limits cannot hold together */
export function resolvePolicy (init: RendezvousServerInit): PointPolicy {
  const policy: PointPolicy = {
    minTtl: init.minTtl ?? DEFAULT_MIN_TTL,
    maxTtl: init.maxTtl ?? MAX_TTL,
    defaultTtl: init.defaultTtl ?? DEFAULT_TTL,
    maxNamespaceLength: init.maxNamespaceLength ?? MAX_NAMESPACE_LENGTH,
    maxRegistrationsPerPeer: init.maxRegistrationsPerPeer ?? MAX_REGISTRATIONS_PER_PEER,
    maxRegistrations: init.maxRegistrations ?? DEFAULT_MAX_REGISTRATIONS,
    maxDiscoverLimit: init.maxDiscoverLimit ?? MAX_DISCOVER_LIMIT,
    allowEmptyAddresses: init.allowEmptyAddresses ?? false,
    acceptLegacyRecords: init.acceptLegacyRecords ?? true,
    servePeerInfoClients: init.servePeerInfoClients ?? true
  }
  if (policy.maxTtl > MAX_TTL) {
    throw new InvalidParametersError(`maxTtl may be at most ${MAX_TTL} seconds (72 h)`)
  }
  if (policy.minTtl < 1 || policy.minTtl > policy.maxTtl) {
    throw new InvalidParametersError('minTtl must be at least 1 and at most maxTtl')
  }
  if (policy.defaultTtl < policy.minTtl || policy.defaultTtl > policy.maxTtl) {
    throw new InvalidParametersError('defaultTtl must lie between minTtl and maxTtl')
  }
  if (policy.maxDiscoverLimit < 1 || policy.maxRegistrationsPerPeer < 1 || policy.maxRegistrations < 1 || policy.maxNamespaceLength < 1) {
    throw new InvalidParametersError('limits must be at least 1')
  }
  return policy
}
