/**
 * The public face of the low-level client: what it takes, what it returns,
 * and the interface its factory hands out.
 */
import type { OwnRecordInit } from './own-record.ts'
import type { Message, WireRegistration } from '../protocol/messages.ts'
import type { Schema } from '../protocol/peer-info.ts'
import type { AbortOptions, ComponentLogger, DialTarget, Logger, PeerId, PeerInfo, PrivateKey } from '@libp2p/interface'
import type { AddressManager, ConnectionManager, Registrar } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface RendezvousClientComponents {
  peerId: PeerId
  privateKey: PrivateKey
  addressManager: AddressManager
  connectionManager: ConnectionManager
  /** Read to tell whether we accept WebRTC through a relay (see `OwnRecord`); a libp2p node always has one */
  registrar?: Registrar
  logger: ComponentLogger
}

/** How requests go out: shared by the client and the discovery service */
export interface RequestsInit {
  /** Protocol id(s) to offer, best first. @default '/rendezvous/1.0.0' */
  protocol?: string | string[]
  /** Milliseconds one request may take when the caller passes no signal. @default 10_000 */
  timeout?: number
  /** Largest response frame we read, in bytes. @default 4 MiB */
  maxMessageSize?: number
  /**
   * Also send the `id` field the spec removed from UNREGISTER; py and early js
   * points ignore an UNREGISTER without it. @default false
   */
  legacyUnregisterId?: boolean
  /**
   * Speak the pre-2020 schema with the points that do (py-libp2p, berty's
   * go): pass `peerInfoSchema()`. We then register there with an unsigned
   * PeerInfo, and the PeerInfo registrations points return come back as
   * registrations with `certified: false`: their id and addresses are only
   * the point's word. Without it such registrations are dropped (and
   * counted), and such points refuse our REGISTER.
   * @default undefined: signed records only
   */
  uncertifiedPeers?: PeerInfoSchema
}

/**
 * The pre-2020 schema as a client speaks it, made by `peerInfoSchema()`.
 * Nothing else reaches that module, so an app that does not opt in carries
 * none of it; this is all the client and the discovery service know of it.
 */
export interface PeerInfoSchema {
  /** The schema for one client (one `Requests`), with its own memory of which points speak it */
  client(log: Logger): PeerInfoClient
  /** A registration the cache kept as uncertified, read again: the PeerInfo of `peerId` it holds, or undefined */
  readCached(peerId: string, bytes: Uint8Array): PeerInfo | undefined
}

export interface VerifyOptions extends AbortOptions {
  /** Called with each registration as soon as its record verifies, before the rest of the page is done */
  onRegistration?(registration: Registration): void
  /** Called with each record that fails verification */
  onInvalid?(err: unknown): void
}

export interface VerifiedPage {
  /** In the order the point sent them */
  registrations: Registration[]
  /** Entries left out: records that did not verify, and older records of a peer the page holds a newer one of */
  dropped: number
}

/** Send one REGISTER to the point, in `schema`; resolves with the TTL it granted, if it said */
export type RegisterSender = (message: Message, schema?: Schema) => Promise<number | undefined>

/** The pre-2020 schema for one client: which points speak it, and what it sends and reads there */
export interface PeerInfoClient {
  /** Whether `point` is known to speak the pre-2020 schema (an UNREGISTER there needs our id) */
  speaks(point: DialTarget): boolean
  /**
   * REGISTER `record` (our signed record) at `point` through `send`: as a
   * PeerInfo where the point is known to speak the pre-2020 schema, else as
   * it is, and again as a PeerInfo when the answer shows the point does
   */
  register(point: DialTarget, namespace: string, record: Uint8Array, ttl: number | undefined, send: RegisterSender): Promise<number | undefined>
  /** `verifyPage`, with PeerInfo entries taken as uncertified registrations instead of failing */
  verifyPage(entries: WireRegistration[], options: VerifyOptions): Promise<VerifiedPage>
}

export interface RendezvousClientInit extends RequestsInit, Omit<OwnRecordInit, 'now'> {
  /** Milliseconds since the epoch; our record's sequence number follows it. @default Date.now */
  now?(): number
}

/** A registration from a DISCOVER response: a verified signed record, or (with `uncertifiedPeers`) a PeerInfo */
export interface Registration {
  namespace: string
  peerId: PeerId
  /** From the signed record, so certified by the peer itself; when not `certified`, the point's word only */
  multiaddrs: Multiaddr[]
  /** Seconds the registration has left, as the point said (clamped to 72 h) */
  ttl: number
  /** The record's sequence number; only comparable between records of one peer. `0n` when not `certified` (a PeerInfo has none) */
  seq: bigint
  /** The envelope exactly as the point returned it; when not `certified`, the PeerInfo it returned instead */
  signedPeerRecord: Uint8Array
  /**
   * `true`: from a signed peer record that verified, signed by the peer itself.
   * `false`: from an unsigned PeerInfo a point of the pre-2020 schema returned
   * (only with `uncertifiedPeers`): anyone could have made it up
   */
  certified: boolean
}

export interface RegisterOptions extends AbortOptions {
  /** Seconds, as on the wire; when absent the point applies its default (2 h by the spec) */
  ttl?: number
}

export interface DiscoverOptions extends AbortOptions {
  /** Most registrations to return; the point may cap it further */
  limit?: number
  /** From an earlier response for the same point and namespace */
  cookie?: Uint8Array
}

export interface DiscoverResult {
  /**
   * One per peer and namespace: the newest record of it on the page that
   * verifies; with `uncertifiedPeers`, else its first PeerInfo
   */
  registrations: Registration[]
  /** Ask with this next time to get only registrations this one did not hold */
  cookie?: Uint8Array
  /**
   * Entries the point returned that were left out: records that failed
   * verification (PeerInfos too, without `uncertifiedPeers`), malformed
   * PeerInfos, and older records of a peer the page holds a newer one of
   */
  dropped: number
}

export interface DiscoverAllOptions extends AbortOptions {
  /** Registrations to ask for per request. @default the point's own page size */
  pageSize?: number
  /** Start after what an earlier cookie has seen */
  cookie?: Uint8Array
  /**
   * Most pages (requests) to fetch. A point that always answers with a full
   * page and a fresh cookie would otherwise keep the walk going for ever;
   * when the cap is reached the walk ends and returns the cookie to go on from.
   * @default 1000
   */
  maxPages?: number
}

/** Talks to the rendezvous point you name, one request per call */
export interface RendezvousClient {
  /** Register our signed record in `namespace` at `point`; resolves with the TTL the point granted, in seconds */
  register(point: DialTarget, namespace: string, options?: RegisterOptions): Promise<number>
  /**
   * Remove our registration in `namespace` at `point`. The spec gives no answer
   * to wait for, so this waits (for as long as the signal allows) until the
   * point has closed its end of the stream, which it does only after reading
   * everything we sent.
   */
  unregister(point: DialTarget, namespace: string, options?: AbortOptions): Promise<void>
  /** One DISCOVER: verified registrations in `namespace` (all namespaces when absent), and the next cookie */
  discover(point: DialTarget, namespace?: string, options?: DiscoverOptions): Promise<DiscoverResult>
  /**
   * Every registration in `namespace`, page by page, following cookies until
   * the point has nothing more or `maxPages` pages were fetched; a cookie the
   * point no longer knows starts the walk over, once. Each page is one
   * request with its own timeout unless a signal is given. Returns the last cookie.
   */
  discoverAll(point: DialTarget, namespace?: string, options?: DiscoverAllOptions): AsyncGenerator<Registration, Uint8Array | undefined>
}
