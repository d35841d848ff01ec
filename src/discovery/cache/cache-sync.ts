import { eachLimited, VERIFYING } from '../../client/verify.ts'
import { openPeerRecord, openPeerRecordNow } from '../../protocol/peer-record.ts'
import { FIRST_LOOK } from '../constants.ts'
import { withMemoryFallback } from './fallback-cache.ts'
import type { CachedRegistration, RegistrationCache } from '../api.ts'
import type { Context } from '../context.ts'
import type { VerifiedPeerRecord } from '../../protocol/peer-record.ts'
import type { AbortOptions } from '@libp2p/interface'

/** A cached peer whose record verified again (or, uncertified, read again), with the points that still hold its registration */
export interface CachedPeer extends VerifiedPeerRecord {
  signedPeerRecord: Uint8Array
  certified: boolean
  /** `[point peer id, expiresAt]`, none lapsed */
  points: Array<[string, number]>
}

/**
 * The cache's one user: reads what an earlier page load saved, verifies it
 * and hands it on; saves the view of each namespace after it changes; and
 * keeps our record's sequence number, so a reload never reuses one.
 *
 * The cache is opened and read as soon as the service is made (libp2p makes
 * its services well before it starts them), so that a warm start finds its
 * peers without waiting on IndexedDB.
 */
export class CacheSync {
  readonly #context: Context
  readonly #cache?: RegistrationCache
  /** Per namespace: what the cache held, read once */
  readonly #reads = new Map<string, Promise<CachedRegistration[]>>()
  /** Per namespace: its cached peers, read into the view once per run (again after a run cut it short) */
  readonly #loads = new Map<string, Promise<void>>()
  /**
   * Per namespace, by peer id: what the cache held that has not been checked
   * yet. Every write keeps them, so a load cut short by stop() loses nothing.
   */
  readonly #unchecked = new Map<string, Map<string, CachedRegistration>>()
  readonly #writes = new Map<string, Promise<void>>()
  /** Namespaces with a write queued that has not begun; it will save the view as it is when it does */
  readonly #queued = new Set<string>()
  /** Per namespace: the cache's first look, checked as the service is made, shown first at start */
  readonly #firstLook = new Map<string, CachedPeer[]>()
  readonly #seq: Promise<bigint | undefined>
  #savedSeq = 0n
  /** From `start()` to `stop()`; stop() aborts it, and with it the checking of cached records */
  #run?: AbortController
  /** Settles at `afterStart()` (or `stop()`): cached records past the first look wait for it */
  #started?: Promise<void>
  #markStarted?: () => void

  constructor (context: Context) {
    this.#context = context
    const factory = context.settings.cache
    if (factory != null) {
      this.#cache = withMemoryFallback(factory(context.self), context.self, err => {
        context.log.error('the registration cache failed, keeping registrations in memory from now on - %e', err)
      })
    }
    for (const namespace of context.settings.namespaces) this.#firstLook.set(namespace, this.#peek(namespace))
    const reads = Promise.all(context.settings.namespaces.map(async namespace => this.#read(namespace)))
    // the peers come first: they are what a warm start shows; the sequence number waits for the first REGISTER
    this.#seq = reads.then(async () => this.#readSeq())
  }

  /** From `start()` to `stop()`: only then is anything written */
  start (): void {
    const run = new AbortController()
    this.#run = run
    this.#started = new Promise(resolve => {
      this.#markStarted = resolve
      run.signal.addEventListener('abort', () => { resolve() }, { once: true })
    })
  }

  /**
   * libp2p has started: the cached records past the first look are checked
   * from now on, so that none of that work shares the page with libp2p's start
   */
  afterStart (): void {
    this.#markStarted?.()
  }

  /**
   * Loads still checking records stop (what they had not checked stays in the
   * cache), and writes already queued finish: a reload right after stop must
   * find what this run learned
   */
  async stop (): Promise<void> {
    this.#run?.abort()
    await Promise.all(this.#loads.values())
    this.#run = undefined
    this.#started = undefined
    this.#markStarted = undefined
    await Promise.all(this.#writes.values())
  }

  /** The highest sequence number our records have used, as the cache had it */
  async seq (): Promise<bigint | undefined> {
    return this.#seq
  }

  /** Persist our record's sequence number before a record with it goes out */
  async saveSeq (seq: bigint, options: AbortOptions): Promise<void> {
    if (seq <= this.#savedSeq || this.#cache == null) return
    try {
      await this.#cache.saveSeq(seq, options)
      this.#savedSeq = seq
    } catch (err) {
      options.signal?.throwIfAborted()
      this.#context.log.error('could not persist our sequence number - %e', err)
    }
  }

  /**
   * Hand the unexpired cached peers of `namespace` to `see`, once per run,
   * each as soon as its record verifies again (nothing in storage is trusted),
   * with the points that still hold it; what lapsed or fails is pruned. The
   * first look goes out before this returns its promise.
   */
  async load (namespace: string, see: (peer: CachedPeer) => void, snapshot: () => CachedRegistration[]): Promise<void> {
    let loading = this.#loads.get(namespace)
    if (loading == null) {
      const signal = this.#run?.signal
      if (signal == null) return
      loading = this.#verify(namespace, see, snapshot, signal).finally(() => {
        if (signal.aborted) this.#loads.delete(namespace)
      })
      this.#loads.set(namespace, loading)
    }
    await loading
  }

  /**
   * Save `namespace` as `snapshot()` has it when the write runs. Writes to one
   * namespace never overtake each other, and calls while one is queued add
   * nothing, so a walk of many pages costs a write or two, not one per page.
   */
  persist (namespace: string, snapshot: () => CachedRegistration[]): void {
    const cache = this.#cache
    if (cache == null || this.#run == null || this.#queued.has(namespace)) return
    this.#queued.add(namespace)
    // never before the cache's own entries are read, or a write could replace them with less
    const previous = this.#writes.get(namespace) ?? this.#read(namespace)
    const write = previous.then(async () => {
      this.#queued.delete(namespace)
      await cache.saveRegistrations(namespace, this.#withUnchecked(namespace, snapshot()))
    }).catch(err => {
      this.#context.log.error('could not cache registrations of %s - %e', namespace, err)
    }).finally(() => {
      if (this.#writes.get(namespace) === write) this.#writes.delete(namespace)
    })
    this.#writes.set(namespace, write)
  }

  /** Forget the cached peers of `namespace`, or of every namespace (our sequence number stays) */
  async clear (namespace: string | undefined, options: AbortOptions): Promise<void> {
    const names = namespace == null ? [...new Set([...this.#loads.keys(), ...this.#writes.keys()])] : [namespace]
    // loads and writes already under way must not bring back what is cleared
    await Promise.all(names.map(async name => { await this.#loads.get(name); await this.#writes.get(name) }))
    for (const name of namespace == null ? [...this.#unchecked.keys()] : names) this.#unchecked.get(name)?.clear()
    if (this.#cache == null) return
    try {
      await this.#cache.clearRegistrations(namespace, options)
    } catch (err) {
      options.signal?.throwIfAborted()
      this.#context.log.error('could not clear the cache - %e', err)
    }
  }

  async #read (namespace: string): Promise<CachedRegistration[]> {
    let read = this.#reads.get(namespace)
    if (read == null) {
      read = (this.#cache?.loadRegistrations(namespace) ?? Promise.resolve([])).catch(err => {
        this.#context.log.error('could not read cached registrations of %s - %e', namespace, err)
        return []
      }).then(entries => {
        this.#unchecked.set(namespace, new Map(entries.map(entry => [entry.peerId, entry])))
        return entries
      })
      this.#reads.set(namespace, read)
    }
    return read
  }

  async #readSeq (): Promise<bigint | undefined> {
    try {
      const seq = await this.#cache?.loadSeq()
      if (seq != null) this.#savedSeq = seq
      return seq
    } catch (err) {
      this.#context.log.error('could not read our last sequence number - %e', err)
      return undefined
    }
  }

  /**
   * The few cached peers of `namespace` the cache can give at once, checked
   * without leaving the running task: libp2p starts in one unbroken run, and
   * anything that waits for a task (an IndexedDB answer, WebCrypto) waits
   * for its end, so these are what a warm start can show before it.
   */
  #peek (namespace: string): CachedPeer[] {
    const now = this.#context.clock.now()
    let entries: CachedRegistration[] = []
    try {
      entries = this.#cache?.peekRegistrations?.(namespace) ?? []
    } catch (err) {
      // the full read has them all
      this.#context.log.error('could not take a first look at the cached registrations of %s - %e', namespace, err)
    }
    const peers: CachedPeer[] = []
    for (const entry of entries.sort((a, b) => b.expiresAt - a.expiresAt).slice(0, FIRST_LOOK)) {
      const points = entry.points.filter(([, at]) => at > now)
      try {
        const peer = this.#asPeer(entry, points, this.#reopen(entry, points, openPeerRecordNow))
        if (peer != null) peers.push(peer)
      } catch {
        // the full read drops it, and says so
      }
    }
    return peers
  }

  /** Cached entries of `namespace` not checked yet join every write of it, unless lapsed */
  #withUnchecked (namespace: string, view: CachedRegistration[]): CachedRegistration[] {
    const now = this.#context.clock.now()
    const inView = new Set(view.map(entry => entry.peerId))
    const unchecked = [...this.#unchecked.get(namespace)?.values() ?? []]
    return [...view, ...unchecked.filter(entry => !inView.has(entry.peerId) && entry.points.some(([, at]) => at > now))]
  }

  /**
   * What a cached entry holds, read again: its PeerInfo when uncertified, else
   * what `open` makes of its signed record (checked at once or by WebCrypto);
   * nothing once its registration lapsed at every point
   */
  #reopen<T> (entry: CachedRegistration, points: Array<[string, number]>, open: (bytes: Uint8Array) => T): T | VerifiedPeerRecord | undefined {
    if (points.length === 0) return undefined
    return entry.certified === false ? this.#unsigned(entry) : open(entry.signedPeerRecord)
  }

  /** The cached peer an entry's record makes, unless it is missing, of another peer than the entry says, or our own */
  #asPeer (entry: CachedRegistration, points: Array<[string, number]>, record: VerifiedPeerRecord | undefined): CachedPeer | undefined {
    if (record == null || record.peerId.toString() !== entry.peerId || record.peerId.equals(this.#context.self)) return undefined
    return { ...record, signedPeerRecord: entry.signedPeerRecord, certified: entry.certified !== false, points }
  }

  /** A cached PeerInfo read again: only with `uncertifiedPeers`, since only that brings uncertified peers into the view */
  #unsigned (entry: CachedRegistration): VerifiedPeerRecord | undefined {
    const peer = this.#context.settings.requests.uncertifiedPeers?.readCached(entry.peerId, entry.signedPeerRecord)
    return peer == null ? undefined : { peerId: peer.id, multiaddrs: peer.multiaddrs, seq: 0n }
  }

  async #verify (namespace: string, see: (peer: CachedPeer) => void, snapshot: () => CachedRegistration[], signal: AbortSignal): Promise<void> {
    // before anything that waits: these go out within start() itself
    for (const peer of this.#firstLook.get(namespace) ?? []) see(peer)
    const [cached] = await Promise.all([this.#read(namespace), this.#started])
    const unchecked = this.#unchecked.get(namespace)
    const { clock, log } = this.#context
    const now = clock.now()
    let pruned = false
    await eachLimited(cached, VERIFYING, async entry => {
      const points = entry.points.filter(([, at]) => at > now)
      // a lapsed entry costs nothing to drop; a record to check waits for the next run once this one stops
      if (points.length > 0 && signal.aborted) return
      let peer: CachedPeer | undefined
      try {
        peer = this.#asPeer(entry, points, await this.#reopen(entry, points, openPeerRecord))
      } catch (err) {
        log.error('dropped a cached registration of %s - %e', entry.peerId, err)
      }
      if (unchecked?.get(entry.peerId) === entry) unchecked.delete(entry.peerId)
      if (peer == null) pruned = true
      else see(peer)
    })
    if (pruned) this.persist(namespace, snapshot)
  }
}
