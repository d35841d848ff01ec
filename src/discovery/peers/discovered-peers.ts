import { PeerView } from './peer-view.ts'
import type { Sighting, ViewChange } from './peer-view.ts'
import type { DiscoveredPeer, PeerRemovalReason } from '../api.ts'
import type { CacheSync } from '../cache/cache-sync.ts'
import type { Context, Run } from '../context.ts'
import type { Task } from '../timing/scheduler.ts'

/**
 * The live view of who is registered where, and everything that follows from
 * a change to it: the events (`peer`, `peer:update`, `peer:remove`), the
 * cache write, and the expiry task that drops registrations as they lapse.
 * Whatever a point or the cache says enters the view through here.
 */
export class DiscoveredPeers {
  readonly #context: Context
  readonly #cache: CacheSync
  readonly #view: PeerView
  #expiry?: Task

  constructor (context: Context, cache: CacheSync) {
    this.#context = context
    this.#cache = cache
    this.#view = new PeerView(context.settings.maxPeersPerPoint)
  }

  start (run: Run): void {
    const next = this.#view.nextExpiry()
    this.#expiry = run.scheduler.add('expire', async () => this.#expire(), { whileHidden: true, at: next })
  }

  stop (): void {
    this.#expiry = undefined
  }

  /** Read the cached peers of `namespace` into the view, once; each is told as soon as its record verifies */
  async load (namespace: string): Promise<void> {
    await this.#cache.load(namespace, peer => {
      this.see(namespace, { id: peer.peerId, multiaddrs: peer.multiaddrs, seq: peer.seq, signedPeerRecord: peer.signedPeerRecord, certified: peer.certified, source: 'cache', points: peer.points })
    }, this.#snapshot(namespace))
  }

  /**
   * Merge a sighting and tell listeners what changed: `peer:update` for a new
   * peer, a newer record or a later expiry, and `peer` for a new peer or a
   * newer record. `full`: left out, its point has brought in its share.
   */
  see (namespace: string, sighting: Sighting): { change: ViewChange, peer: DiscoveredPeer } {
    const { change, peer, previous } = this.#view.upsert(namespace, sighting)
    if (change === 'full' || change === 'unchanged') return { change, peer }
    this.#context.emit('peer:update', { namespace, peer, previous })
    if (change !== 'refreshed') this.#context.emit('peer', { id: peer.id, multiaddrs: peer.multiaddrs })
    const earliest = Math.min(...sighting.points.map(([, at]) => at))
    if (this.#expiry != null) this.#expiry.schedule(Math.min(this.#expiry.deadline, earliest))
    this.#cache.persist(namespace, this.#snapshot(namespace))
    return { change, peer }
  }

  /** Tell listeners of every peer in the view of `namespace` again, as new: a restarted service starts over */
  announce (namespace: string): void {
    for (const peer of this.peers(namespace)) {
      this.#context.emit('peer:update', { namespace, peer })
      this.#context.emit('peer', { id: peer.id, multiaddrs: peer.multiaddrs })
    }
  }

  /** Save `namespace` (expiries move a little with every walk, without an event) */
  persist (namespace: string): void {
    this.#cache.persist(namespace, this.#snapshot(namespace))
  }

  /** A complete walk of `namespace` from scratch at `point` returned exactly `present`: the rest left that point */
  reconcile (namespace: string, point: string, present: Set<string>): void {
    this.#removed(this.#view.reconcile(namespace, point, present), 'unregistered')
  }

  /** Forget `namespace`, or everything */
  clear (namespace?: string): void {
    this.#removed(this.#view.clear(namespace), 'cleared')
  }

  /** The unexpired peers of `namespace` */
  peers (namespace: string): DiscoveredPeer[] {
    return this.#view.peers(namespace, this.#context.clock.now())
  }

  /** The expiry task: drop lapsed registrations, and run again at the next lapse */
  async #expire (): Promise<number | undefined> {
    this.#removed(this.#view.expire(this.#context.clock.now()), 'expired')
    const next = this.#view.nextExpiry()
    return next === Infinity ? undefined : next
  }

  #removed (peers: DiscoveredPeer[], reason: PeerRemovalReason): void {
    const namespaces = new Set<string>()
    for (const peer of peers) {
      namespaces.add(peer.namespace)
      this.#context.emit('peer:remove', { namespace: peer.namespace, peer, reason })
    }
    for (const namespace of namespaces) this.#cache.persist(namespace, this.#snapshot(namespace))
  }

  #snapshot (namespace: string): () => ReturnType<PeerView['toCache']> {
    return () => this.#view.toCache(namespace)
  }
}
