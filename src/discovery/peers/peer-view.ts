import type { CachedRegistration, DiscoveredPeer, PeerSource } from '../api.ts'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A verified registration (or, with `uncertifiedPeers`, a PeerInfo) about to enter the view */
export interface Sighting {
  id: PeerId
  multiaddrs: Multiaddr[]
  seq: bigint
  signedPeerRecord: Uint8Array
  certified: boolean
  source: PeerSource
  /** `[point peer id, expiresAt]` */
  points: Array<[string, number]>
}

/**
 * - `added`: the peer is new in the namespace
 * - `updated`: a newer record (so possibly new addresses)
 * - `refreshed`: same record, but a later expiry, another point or a network confirmation
 * - `unchanged`: nothing worth telling anyone
 * - `full`: the peer is new, but the point it came from has brought in as many as it may; it was left out
 */
export type ViewChange = 'added' | 'updated' | 'refreshed' | 'unchanged' | 'full'

/** A peer's record, as a sighting brings it and the view keeps it */
type PeerFields = Omit<Sighting, 'points'>

interface Entry extends PeerFields {
  points: Map<string, number>
  /** The point whose sighting brought the peer into the view; it counts against that point's share */
  addedBy: string
}

/** Expiry is reported by points in whole seconds, so re-reading one registration moves it by up to a second */
const EXPIRY_TOLERANCE = 1000

/** The latest lapse of any point's registration, from `[point peer id, expiresAt]` pairs */
function latestExpiry (points: Iterable<[string, number]>): number {
  let latest = 0
  for (const [, at] of points) latest = Math.max(latest, at)
  return latest
}

/** A record of a peer as the view and a round hold it: enough to tell which of two to keep */
export interface Held {
  certified: boolean
  seq: bigint
  multiaddrs: Multiaddr[]
  /** Milliseconds since the epoch: the latest lapse of any point's registration of it */
  expiresAt: number
}

/**
 * Whether `next` takes the place of `current` (two records of one peer): a
 * signed record beats an unsigned PeerInfo whatever their ages, and is never
 * replaced by one; of two signed records the higher sequence number wins. A
 * PeerInfo has no sequence number, so of two the one registered last wins,
 * as far as expiries tell (a point that still holds an older one must not
 * flip the view back at every poll), and only when it says something else.
 */
export function replaces (next: Held, current: Held): boolean {
  if (next.certified !== current.certified) return next.certified
  if (next.certified) return next.seq > current.seq
  return next.expiresAt + EXPIRY_TOLERANCE >= current.expiresAt &&
    next.multiaddrs.map(String).join(' ') !== current.multiaddrs.map(String).join(' ')
}

/** The peer that `record` stands for; its `points` are `[point peer id, expiresAt]` pairs (a round's array, the view's map) */
export function toPeer (namespace: string, record: PeerFields & { points: Iterable<[string, number]> }): DiscoveredPeer {
  const held = [...record.points]
  return {
    id: record.id,
    multiaddrs: record.multiaddrs,
    certified: record.certified,
    namespace,
    expiresAt: latestExpiry(held),
    source: record.source,
    seq: record.seq,
    points: held.map(([point]) => point)
  }
}

/**
 * Who is registered where: per namespace, one entry per peer holding the
 * record with the highest sequence number any point returned, and when each
 * point's registration of it lapses. Pure bookkeeping: no I/O, no events.
 */
export class PeerView {
  readonly #namespaces = new Map<string, Map<string, Entry>>()
  /** Per namespace, how many of its peers each point brought in */
  readonly #added = new Map<string, Map<string, number>>()
  /**
   * Peers one point may bring into one namespace. Anyone can mint keys and
   * sign records, so a hostile point could otherwise fill memory with valid
   * peers, a page at a time; a share per point also keeps it from crowding
   * out the peers other points return.
   */
  readonly #maxPeersPerPoint: number

  constructor (maxPeersPerPoint = Infinity) {
    this.#maxPeersPerPoint = maxPeersPerPoint
  }

  /** Merge a sighting; says what changed and the peer as it is now (as it would have been, when `full`) */
  upsert (namespace: string, sighting: Sighting): { change: ViewChange, peer: DiscoveredPeer, previous?: DiscoveredPeer } {
    let peers = this.#namespaces.get(namespace)
    if (peers == null) {
      peers = new Map()
      this.#namespaces.set(namespace, peers)
    }
    const key = sighting.id.toString()
    const entry = peers.get(key)

    if (entry == null) {
      const added: Entry = {
        id: sighting.id,
        multiaddrs: sighting.multiaddrs,
        seq: sighting.seq,
        signedPeerRecord: sighting.signedPeerRecord,
        certified: sighting.certified,
        source: sighting.source,
        points: new Map(sighting.points),
        addedBy: sighting.points[0]?.[0] ?? ''
      }
      if (this.#addedBy(namespace, added.addedBy) >= this.#maxPeersPerPoint) {
        this.#dropIfEmpty(namespace)
        return { change: 'full', peer: toPeer(namespace, added) }
      }
      peers.set(key, added)
      this.#count(namespace, added.addedBy, 1)
      return { change: 'added', peer: toPeer(namespace, added) }
    }

    const previous = toPeer(namespace, entry)
    const seen = { ...sighting, expiresAt: Math.max(...sighting.points.map(([, at]) => at)) }
    let change: ViewChange = 'unchanged'

    if (replaces(seen, previous)) {
      entry.seq = sighting.seq
      entry.multiaddrs = sighting.multiaddrs
      entry.signedPeerRecord = sighting.signedPeerRecord
      entry.certified = sighting.certified
      change = 'updated'
    }
    // a point still holding an older record still holds a registration of the peer
    for (const [point, at] of sighting.points) {
      const known = entry.points.get(point)
      if (known == null || at > known + EXPIRY_TOLERANCE) {
        entry.points.set(point, at)
        if (change === 'unchanged') change = 'refreshed'
      } else if (at > known) {
        entry.points.set(point, at)
      }
    }
    // the record the view now holds is the one a point just returned, or one no older
    if (sighting.source === 'network' && entry.source !== 'network' && (change === 'updated' || !replaces(previous, seen))) {
      entry.source = 'network'
      if (change === 'unchanged') change = 'refreshed'
    }

    return { change, peer: toPeer(namespace, entry), previous }
  }

  /**
   * A complete, cookie-less walk of `namespace` at `point` returned exactly
   * `present`: everyone else no longer holds a registration there. Resolves
   * the peers no point holds any more, which leave the view.
   */
  reconcile (namespace: string, point: string, present: Set<string>): DiscoveredPeer[] {
    const peers = this.#namespaces.get(namespace)
    if (peers == null) return []
    const gone: DiscoveredPeer[] = []
    for (const [key, entry] of peers) {
      if (present.has(key) || !entry.points.has(point)) continue
      const before = toPeer(namespace, entry)
      entry.points.delete(point)
      if (entry.points.size === 0) {
        this.#delete(namespace, key, entry)
        gone.push(before)
      }
    }
    this.#dropIfEmpty(namespace)
    return gone
  }

  /** Remove what has lapsed by `now`; resolves the peers that left */
  expire (now: number): DiscoveredPeer[] {
    const gone: DiscoveredPeer[] = []
    for (const [namespace, peers] of this.#namespaces) {
      for (const [key, entry] of peers) {
        const before = toPeer(namespace, entry)
        for (const [point, at] of entry.points) {
          if (at <= now) entry.points.delete(point)
        }
        if (entry.points.size === 0) {
          this.#delete(namespace, key, entry)
          gone.push(before)
        }
      }
      this.#dropIfEmpty(namespace)
    }
    return gone
  }

  /** Forget `namespace`, or everything; resolves the peers that left */
  clear (namespace?: string): DiscoveredPeer[] {
    const names = namespace == null ? [...this.#namespaces.keys()] : [namespace]
    const gone: DiscoveredPeer[] = []
    for (const name of names) {
      for (const entry of this.#namespaces.get(name)?.values() ?? []) {
        gone.push(toPeer(name, entry))
      }
      this.#namespaces.delete(name)
      this.#added.delete(name)
    }
    return gone
  }

  /** Peers in `namespace` whose registration has not lapsed by `now` */
  peers (namespace: string, now: number): DiscoveredPeer[] {
    return [...this.#namespaces.get(namespace)?.values() ?? []]
      .map(entry => toPeer(namespace, entry))
      .filter(peer => peer.expiresAt > now)
  }

  /** Milliseconds since the epoch of the next lapse of any point's registration, or Infinity */
  nextExpiry (): number {
    let earliest = Infinity
    for (const peers of this.#namespaces.values()) {
      for (const entry of peers.values()) {
        for (const at of entry.points.values()) earliest = Math.min(earliest, at)
      }
    }
    return earliest
  }

  /** `namespace` as the cache stores it */
  toCache (namespace: string): CachedRegistration[] {
    return [...this.#namespaces.get(namespace)?.values() ?? []].map(entry => ({
      peerId: entry.id.toString(),
      signedPeerRecord: entry.signedPeerRecord,
      ...(entry.certified ? {} : { certified: false }),
      expiresAt: latestExpiry(entry.points),
      points: [...entry.points]
    }))
  }

  #addedBy (namespace: string, point: string): number {
    return this.#added.get(namespace)?.get(point) ?? 0
  }

  #count (namespace: string, point: string, delta: number): void {
    let counts = this.#added.get(namespace)
    if (counts == null) {
      counts = new Map()
      this.#added.set(namespace, counts)
    }
    const count = (counts.get(point) ?? 0) + delta
    if (count > 0) counts.set(point, count)
    else counts.delete(point)
  }

  #delete (namespace: string, key: string, entry: Entry): void {
    this.#namespaces.get(namespace)?.delete(key)
    this.#count(namespace, entry.addedBy, -1)
  }

  #dropIfEmpty (namespace: string): void {
    if (this.#namespaces.get(namespace)?.size === 0) {
      this.#namespaces.delete(namespace)
      this.#added.delete(namespace)
    }
  }
}
