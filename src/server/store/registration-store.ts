/**
 * Where a rendezvous point keeps its registrations. Protocol code sees only
 * this interface, so a networked store can replace the in-memory default.
 *
 * Every registration gets a cursor from one counter that only grows, taken
 * afresh on each (re-)registration. DISCOVER returns registrations in cursor
 * order after a given cursor, which gives cookies their meaning: "what I have
 * not seen yet" and "the next page" are the same question.
 */

/** A registration as a store keeps it: the record stays the opaque bytes the peer sent */
export interface StoredRegistration {
  /** The registering peer, as a string */
  peerId: string
  namespace: string
  /** The signed envelope the peer sent; for an `unsigned` registration, its encoded PeerInfo */
  signedPeerRecord: Uint8Array
  /**
   * Registered in the pre-2020 schema: a PeerInfo whose addresses nobody
   * signed, only the peer's word. Absent (or false) for a signed record.
   */
  unsigned?: boolean
  /** The record's sequence number, so that an older record cannot replace a newer one; 0 when unsigned */
  seq: bigint
  /** Milliseconds since the epoch */
  expiresAt: number
  /** Position in registration order; assigned by the store */
  cursor: bigint
  /**
   * The peer id of the relay every address of the record goes through, when
   * they all go through one: the peer is reachable only while it is
   * connected there. Absent when the record can be dialled any other way.
   */
  relayedVia?: string
}

export type NewRegistration = Omit<StoredRegistration, 'cursor'>

export interface RegistrationLimits {
  /** Namespaces one peer may be registered in at once */
  maxPerPeer: number
  /** Registrations the store holds at once */
  maxTotal: number
}

export type RegisterOutcome =
  | { ok: true }
  | { ok: false, reason: 'peer-limit' | 'total-limit' }
  | { ok: false, reason: 'stale-record', currentSeq: bigint }

export interface DiscoverOptions {
  /** Leave out unsigned registrations, for clients that take only signed records; a page still holds up to `limit` */
  signedOnly?: boolean
}

export interface DiscoverPage {
  registrations: StoredRegistration[]
  /** The cursor of the last registration returned, or `after` when none was */
  cursor: bigint
}

export interface RegistrationStore {
  /**
   * The cookie secret of every point that shares this store, when it is
   * shared; a point uses it unless given one of its own
   */
  readonly cookieSecret?: Uint8Array
  /**
   * Add or replace the registration of `peerId` in `namespace`, atomically
   * with the limit checks. A record with a lower sequence number than the one
   * it would replace is refused.
   */
  register(registration: NewRegistration, limits: RegistrationLimits, now: number): Promise<RegisterOutcome>
  /** Remove the peer's registration in `namespace`, or in every namespace when it is undefined; resolves with how many went */
  unregister(peerId: string, namespace: string | undefined, now: number): Promise<number>
  /**
   * Remove, atomically, the peer's registrations whose `relayedVia` is
   * `relay`, and no others: the point `relay` calls it once the peer's last
   * connection to it has closed. Costs O(the peer's registrations). A store
   * without it keeps such registrations until they expire. Resolves with how
   * many went.
   */
  unregisterRelayed?(peerId: string, relay: string, now: number): Promise<number>
  /** Unexpired registrations with a cursor above `after`, in cursor order, in `namespace` or in all when it is undefined */
  discover(namespace: string | undefined, after: bigint, limit: number, now: number, options?: DiscoverOptions): Promise<DiscoverPage>
  /** Unexpired registrations per namespace */
  namespaceStats(now: number): Promise<Map<string, number>>
  /** Forget expired registrations; resolves with how many went */
  prune(now: number): Promise<number>
}

/** The store cannot serve right now (its backend is down); the point answers E_UNAVAILABLE */
export class StoreUnavailableError extends Error {
  static name = 'StoreUnavailableError'
  constructor (message = 'The registration store is unavailable') {
    super(message)
    this.name = 'StoreUnavailableError'
  }
}
