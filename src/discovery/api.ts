/**
 * The public face of the discovery service, and the vocabulary its parts
 * share: its options, events and methods, the peers, registrations and points
 * it reports, and what it takes from outside (a cache, a clock, a page).
 */
import type { DiscoverAllOptions, DiscoverOptions, PeerInfoSchema, RegisterOptions, RendezvousClientComponents } from '../client/api.ts'
import type { AbortOptions, ConnectionGater, Libp2pEvents, PeerDiscoveryEvents, PeerDiscoveryProvider, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface RendezvousDiscoveryInit {
  /**
   * Rendezvous points, each with `/p2p/<peer id>`, over any transport the
   * node has (`/wss`, `/webtransport/certhash/...`, a relay path...).
   * Addresses of one peer are one point.
   */
  points: Array<string | Multiaddr>
  /**
   * Namespaces to register in and discover from as soon as the node starts,
   * and for as long as it runs.
   * @default []
   */
  namespaces?: string[]
  /**
   * Seconds, as on the wire: the TTL to ask for. Points may grant less;
   * refreshes follow what they grant. Points that refuse it (E_INVALID_TTL)
   * are asked again for 7200 s.
   * @default 7200
   */
  ttl?: number
  /**
   * Fraction of the granted TTL after which a registration is refreshed
   * (less up to a tenth of that, at random).
   * @default 0.8
   */
  refreshRatio?: number
  /**
   * Milliseconds between DISCOVER polls of each point for each namespace,
   * while the page is visible. Polling stops while it is hidden.
   * @default 60_000
   */
  discoverInterval?: number
  /**
   * Every this many polls of a point, poll without a cookie and walk the
   * whole namespace: cookies only ever report new registrations, so this is
   * how peers that unregistered leave the view. Where the namespace fit in
   * one page at the last such walk, every poll goes without a cookie, since
   * that costs no more; this only paces polls of larger namespaces.
   * @default 5
   */
  fullDiscoverEvery?: number
  /**
   * Registrations asked for per DISCOVER page (points may cap it lower).
   * A point that returns more has the rest ignored.
   * @default 100
   */
  limit?: number
  /**
   * Pages one walk of a namespace at one point may take (a poll, or
   * `discoverAll` and `findPeers`), so that a point that always answers with
   * a full page and a fresh cookie cannot keep us walking for ever. A poll
   * that stops there goes on from where it stopped next time.
   * @default 100
   */
  maxPages?: number
  /**
   * Peers the view of one namespace may hold, shared out equally among the
   * points: each may bring in its share, and new peers beyond it are left
   * out (and logged) until some of those leave. Anyone can make valid
   * records, so without a bound a hostile point could fill memory with them,
   * and without shares it could crowd out the peers of the others.
   * @default 10_000
   */
  maxPeers?: number
  /**
   * Milliseconds one request (a REGISTER, one DISCOVER page) may take; a
   * caller's signal can end it sooner.
   * @default 10_000
   */
  timeout?: number
  /**
   * Milliseconds that unregistering everywhere may take in all on `stop()`
   * and when the page is unloaded.
   * @default 2_000
   */
  unregisterTimeout?: number
  /**
   * Milliseconds before the first retry after a failure at a point; it
   * doubles with each failure in a row, with jitter.
   * @default 5_000
   */
  retryDelay?: number
  /**
   * Milliseconds the retry delay grows to at most.
   * @default 300_000
   */
  maxRetryDelay?: number
  /**
   * Protocol id(s) to offer, best first.
   * @default '/rendezvous/1.0.0'
   */
  protocol?: string | string[]
  /**
   * Which of our addresses to put in our record.
   * @default all of them
   */
  addressFilter?(multiaddr: Multiaddr): boolean
  /**
   * Register even without any address (a record others can verify but not
   * dial). By default the service waits for an address instead, because go
   * and waku points, and ours unless told otherwise, refuse such records.
   * @default false
   */
  allowEmptyAddresses?: boolean
  /**
   * Also send the `id` field the spec removed from UNREGISTER, which py and
   * early js points need.
   * @default false
   */
  legacyUnregisterId?: boolean
  /**
   * Also find peers through points of the pre-2020 schema (py-libp2p, berty's
   * go), which hold unsigned PeerInfos instead of signed records: pass
   * `peerInfoSchema()`. Their peers are then emitted with `certified: false`
   * (their id and addresses are only the point's word), never in place of a
   * signed record of the same peer, and cached with that mark; we register
   * at such points with a PeerInfo too. Without it, their registrations are
   * dropped and they refuse our REGISTER (`NotAuthorizedError` from py).
   * @default undefined: signed records only
   */
  uncertifiedPeers?: PeerInfoSchema
  /**
   * Where discovered registrations and our record's sequence number are
   * kept between page loads. `false` keeps nothing.
   * @default idbCache() where IndexedDB exists, memoryCache() elsewhere
   */
  cache?: RegistrationCacheFactory | false
  /**
   * Time, for tests.
   * @default systemClock
   */
  clock?: Clock
  /**
   * Page visibility and lifecycle, for tests.
   * @default documentVisibility(), which is always visible outside browsers
   */
  visibility?: Visibility
}

export interface RendezvousDiscoveryComponents extends RendezvousClientComponents {
  events: TypedEventTarget<Libp2pEvents>
  /** Asked at start whether any point may be dialled at all */
  connectionGater?: ConnectionGater
}

/** A peer entered the view of a namespace, or changed in it */
export interface PeerViewUpdate {
  namespace: string
  peer: DiscoveredPeer
  /** The peer as it was, when it was in the view already */
  previous?: DiscoveredPeer
}

/**
 * - `expired`: its registration lapsed at every point
 * - `unregistered`: a complete walk of the namespace without a cookie, at every point that held it, no longer returned it
 * - `cleared`: `clearCache()` was called
 */
export type PeerRemovalReason = 'expired' | 'unregistered' | 'cleared'

/** A peer left the view of a namespace */
export interface PeerViewRemoval {
  namespace: string
  peer: DiscoveredPeer
  reason: PeerRemovalReason
}

/** Our registration in a namespace at a point is gone because we unregistered */
export interface Unregistered extends Omit<RegistrationState, 'status'> {
  status: 'unregistered'
}

export interface RendezvousDiscoveryEvents extends PeerDiscoveryEvents {
  /** A peer was added to the view of a namespace or changed in it (new record, later expiry, confirmed by the network) */
  'peer:update': CustomEvent<PeerViewUpdate>
  /** A peer left the view of a namespace */
  'peer:remove': CustomEvent<PeerViewRemoval>
  /** Our own registration at a point changed state */
  'registration:update': CustomEvent<RegistrationState | Unregistered>
  /** A rendezvous point became reachable or unreachable, or failed in another way */
  'point:update': CustomEvent<PointState>
}

export interface FindPeersOptions extends AbortOptions {
  /** Ask the points even when the cache still holds unexpired peers. @default false */
  forceRefresh?: boolean
}

/** A libp2p service that registers at rendezvous points and finds the peers registered there */
export interface RendezvousDiscovery extends TypedEventTarget<RendezvousDiscoveryEvents>, PeerDiscoveryProvider, Startable {
  /**
   * Register in `namespace` at every point now, and keep the registration
   * fresh until `unregister(namespace)` or `stop()`. Resolves with the
   * shortest TTL a point granted, in seconds. Rejects when no point accepted
   * (with `NoAddressesError` while we have no address); the namespace is
   * retried in the background all the same.
   */
  register(namespace: string, options?: RegisterOptions): Promise<number>
  /**
   * Stop refreshing `namespace` and send UNREGISTER to every point. It has no
   * answer, so this resolves once each point has closed the stream (it does
   * after reading the request), or the request timed out.
   */
  unregister(namespace: string, options?: AbortOptions): Promise<void>
  /**
   * One DISCOVER (one page, no cookie) at every point, merged: each peer
   * once, with its newest record. Emits `peer` for each.
   */
  discover(namespace: string, options?: Omit<DiscoverOptions, 'cookie'>): Promise<DiscoveredPeer[]>
  /**
   * Every peer registered in `namespace`, walking each point page by page
   * with cookies to the end, or to `maxPages` pages (the service's `maxPages`
   * unless given); points are asked at once. A peer is yielded again only
   * when a later page or point has a newer record of it.
   */
  discoverAll(namespace: string, options?: Omit<DiscoverAllOptions, 'cookie'>): AsyncGenerator<DiscoveredPeer, void, undefined>
  /**
   * The peers in `namespace`: from the cache while it holds any unexpired
   * registration there, else (or with `forceRefresh`) from a complete walk
   * at every point.
   */
  findPeers(namespace: string, options?: FindPeersOptions): Promise<DiscoveredPeer[]>
  /** Forget cached peers of `namespace`, or of every namespace; they leave the view */
  clearCache(namespace?: string, options?: AbortOptions): Promise<void>
  /** Our registrations, per point and namespace */
  getRegistrations(): RegistrationState[]
  /** The unexpired peers in the view of `namespace` */
  getPeers(namespace: string): DiscoveredPeer[]
  /** How each rendezvous point is doing, in the order configured; empty while not started */
  getPoints(): PointState[]
  isStarted(): boolean
}

/** Where the current knowledge of a peer came from */
export type PeerSource = 'cache' | 'network'

/** A peer registered in a namespace, as far as we know now */
export interface DiscoveredPeer {
  id: PeerId
  /** From the peer's own signed record; when not `certified`, the point's word only */
  multiaddrs: Multiaddr[]
  /**
   * `true`: from a signed record the peer made. `false` (only with
   * `uncertifiedPeers`): from an unsigned PeerInfo that a point of the
   * pre-2020 schema returned, which anyone could have made up; a signed
   * record of the peer, when one arrives, takes its place
   */
  certified: boolean
  namespace: string
  /** Milliseconds since the epoch when its last registration we know of lapses */
  expiresAt: number
  /** `cache` until a point has confirmed it since start-up */
  source: PeerSource
  /** The sequence number of its record; `0n` when not `certified` */
  seq: bigint
  /** Peer ids of the points that hold its registration */
  points: string[]
}

/**
 * - `waiting-for-addresses`: we have no address to put in a record, so nothing was sent;
 *   registration happens as soon as one appears
 * - `registering`: a REGISTER is on its way (an earlier registration may still be in force)
 * - `registered`: the point accepted our record
 * - `error`: the last attempt failed; it is retried at `retryAt`
 */
export type RegistrationStatus = 'waiting-for-addresses' | 'registering' | 'registered' | 'error'

/** Our own registration in one namespace at one point */
export interface RegistrationState {
  namespace: string
  /** The rendezvous point */
  point: PeerId
  status: RegistrationStatus
  /** Seconds the point granted the last time it accepted us */
  ttl?: number
  /** Milliseconds since the epoch when the last accepted registration lapses */
  expiresAt?: number
  /** Milliseconds since the epoch of the next scheduled refresh (when `registered`) */
  refreshAt?: number
  /** Milliseconds since the epoch of the next retry (when `error`) */
  retryAt?: number
  /** What went wrong (when `error`) */
  error?: string
  /** The error's name, e.g. `InvalidTTLError` (when `error`) */
  errorName?: string
  /** Milliseconds since the epoch of this change */
  updatedAt: number
}

/**
 * - `connecting`: nothing has been heard from the point since start-up, or
 *   since the connection to it closed; the next request will tell
 * - `ok`: the point is reachable: the last request to it got an answer, or a
 *   connection to it opened since it was `connecting`
 * - `error`: the last request failed (unreachable, timed out, no or a garbled
 *   answer, or the point said it is unavailable); it is tried again at `retryAt`
 */
export type PointStatus = 'connecting' | 'ok' | 'error'

/** How a rendezvous point is doing, as far as our requests to it can tell */
export interface PointState {
  /** The rendezvous point */
  point: PeerId
  status: PointStatus
  /** What went wrong (when `error`) */
  error?: string
  /** The error's name, e.g. `TimeoutError` (when `error`) */
  errorName?: string
  /** Milliseconds since the epoch of the next attempt at the point (when `error` and one is scheduled) */
  retryAt?: number
  /** Milliseconds since the epoch of the last answer from the point; kept current without an event of its own */
  lastSuccessAt?: number
  /** Milliseconds since the epoch of the last change of status, error or retry time */
  updatedAt: number
}

/** One peer in one namespace, as cached */
export interface CachedRegistration {
  /** The registered peer, as a string */
  peerId: string
  /** The signed peer record envelope, verified again on load; when `certified` is false, the PeerInfo */
  signedPeerRecord: Uint8Array
  /** `false` for an unsigned PeerInfo, read again on load only with `uncertifiedPeers`. @default true */
  certified?: boolean
  /** Milliseconds since the epoch after which no point holds the registration any more */
  expiresAt: number
  /** `[point peer id, expiresAt]` for every point that returned it */
  points: Array<[string, number]>
}

/** The cache of one libp2p node. Open one per peer id, so two nodes on one origin never share one */
export interface RegistrationCache {
  /** What was saved for `namespace`, possibly expired */
  loadRegistrations(namespace: string, options?: AbortOptions): Promise<CachedRegistration[]>
  /** Replace what is saved for `namespace`; an empty list removes it */
  saveRegistrations(namespace: string, registrations: CachedRegistration[], options?: AbortOptions): Promise<void>
  /** Forget `namespace`, or every namespace when it is undefined (our sequence number stays) */
  clearRegistrations(namespace?: string, options?: AbortOptions): Promise<void>
  /**
   * A few of what was saved for `namespace`, at once: what a warm start shows
   * before anything else can run (libp2p starts in one unbroken run, and an
   * IndexedDB answer waits for its end). Optional: without it, cached peers
   * show as soon as `loadRegistrations` answers.
   */
  peekRegistrations?(namespace: string): CachedRegistration[]
  /** The highest sequence number our own records have used */
  loadSeq(options?: AbortOptions): Promise<bigint | undefined>
  saveSeq(seq: bigint, options?: AbortOptions): Promise<void>
}

/** Opens the cache of the node with peer id `self` */
export type RegistrationCacheFactory = (self: PeerId) => RegistrationCache

/** An opaque handle for a pending timer */
export type TimerId = unknown

export interface Clock {
  /** Milliseconds since the epoch */
  now(): number
  /** Call `fn` once after about `ms` milliseconds */
  setTimeout(fn: () => void, ms: number): TimerId
  clearTimeout(id: TimerId): void
}

/**
 * - `visible` / `hidden`: the page's visibility changed
 * - `resume`: the page may have missed timers (resumed from freeze, restored
 *   from the back/forward cache, or back online); overdue work should run
 * - `leave`: the page may be about to go (`beforeunload`): it is not sure yet
 *   (the unload can be cancelled, or the page kept in the bfcache), but this
 *   is the last moment with time enough to send anything
 * - `exit`: the page is being unloaded for good (not kept in the bfcache)
 */
export type PageLifecycleEvent = 'visible' | 'hidden' | 'resume' | 'leave' | 'exit'

export interface Visibility {
  /** Whether the page is visible now */
  readonly visible: boolean
  /** Be told about lifecycle changes; returns a function that stops it */
  subscribe(listener: (event: PageLifecycleEvent) => void): () => void
}
