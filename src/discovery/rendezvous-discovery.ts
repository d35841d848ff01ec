import { InvalidParametersError, NotStartedError, peerDiscoverySymbol, serviceCapabilities } from '@libp2p/interface'
import { anySignal } from 'any-signal'
import { setMaxListeners, TypedEventEmitter } from 'main-event'
import { raceSignal } from 'race-signal'
import { RendezvousClient } from '../client/rendezvous-client.ts'
import { NoAddressesError } from '../errors.ts'
import { namespaceProblem } from '../protocol/namespace.ts'
import { openPeerRecord } from '../protocol/peer-record.ts'
import { AsyncQueue } from './async-queue.ts'
import { Backoff, jitter } from './backoff.ts'
import { withMemoryFallback } from './cache/fallback-cache.ts'
import { idbCache } from './cache/idb-cache.ts'
import { memoryCache } from './cache/memory-cache.ts'
import { ownBytes } from './cache/registration-cache.ts'
import { systemClock } from './clock.ts'
import {
  DEFAULT_DISCOVER_INTERVAL, DEFAULT_DISCOVER_LIMIT, DEFAULT_FULL_DISCOVER_EVERY, DEFAULT_MAX_PAGES, DEFAULT_MAX_PEERS,
  DEFAULT_MAX_RETRY_DELAY, DEFAULT_REFRESH_RATIO, DEFAULT_REGISTRATION_TTL, DEFAULT_RETRY_DELAY, DEFAULT_TIMEOUT,
  DEFAULT_UNREGISTER_TIMEOUT, FALLBACK_TTL, LEAVE_GRACE, WAKE_INTERVAL
} from './constants.ts'
import { failureOf } from './errors.ts'
import { walkNamespace } from './namespace-walk.ts'
import { isPointFailure, PointBook } from './point-book.ts'
import { PeerView } from './peer-view.ts'
import { parsePoints } from './points.ts'
import { RegistrationBook } from './registration-book.ts'
import { DeadlineScheduler } from './scheduler.ts'
import { documentVisibility } from './visibility.ts'
import type { FindPeersOptions, PeerRemovalReason, RendezvousDiscovery, RendezvousDiscoveryComponents, RendezvousDiscoveryEvents, RendezvousDiscoveryInit } from './index.ts'
import type { RegistrationCache, RegistrationCacheFactory } from './cache/registration-cache.ts'
import type { Clock, TimerId } from './clock.ts'
import type { DiscoveredPeer, Sighting, ViewChange } from './peer-view.ts'
import type { PointState } from './point-book.ts'
import type { Point } from './points.ts'
import type { RegistrationState } from './registration-book.ts'
import type { Visibility } from './visibility.ts'
import type { DiscoverAllOptions, DiscoverOptions, RegisterOptions, Registration } from '../client/rendezvous-client.ts'
import type { AbortOptions, Logger, PeerDiscovery, PeerId, Startable } from '@libp2p/interface'

/**
 * Tell listeners (`peer`) about every peer a round returns, once, or only
 * about peers that are new or have a newer record
 */
type Announce = 'all' | 'changes'

interface WalkInit {
  /** Start without a cookie */
  full: boolean
  signal: AbortSignal
  limit: number
  maxPages: number
  /** Ids `peer` was emitted for during the round; new ones are added */
  announced: Set<string>
  /** Keep the cookie the walk ends with even if it did not reach the end (the poller picks up where it stopped) */
  keepPartialCookie: boolean
  onPeers?(peers: DiscoveredPeer[]): void
}

interface Settings {
  ttl: number
  refreshRatio: number
  discoverInterval: number
  fullDiscoverEvery: number
  limit: number
  maxPages: number
  timeout: number
  unregisterTimeout: number
}

function positive (name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback
  if (!Number.isFinite(resolved) || resolved <= 0) {
    throw new InvalidParametersError(`${name} must be a positive number, got ${value}`)
  }
  return resolved
}

function resolveSettings (init: RendezvousDiscoveryInit): Settings {
  const refreshRatio = init.refreshRatio ?? DEFAULT_REFRESH_RATIO
  if (!(refreshRatio > 0 && refreshRatio < 1)) {
    throw new InvalidParametersError(`refreshRatio must lie between 0 and 1, got ${refreshRatio}`)
  }
  return {
    ttl: positive('ttl', init.ttl, DEFAULT_REGISTRATION_TTL),
    refreshRatio,
    discoverInterval: positive('discoverInterval', init.discoverInterval, DEFAULT_DISCOVER_INTERVAL),
    fullDiscoverEvery: Math.floor(positive('fullDiscoverEvery', init.fullDiscoverEvery, DEFAULT_FULL_DISCOVER_EVERY)),
    limit: Math.floor(positive('limit', init.limit, DEFAULT_DISCOVER_LIMIT)),
    maxPages: Math.floor(positive('maxPages', init.maxPages, DEFAULT_MAX_PAGES)),
    timeout: positive('timeout', init.timeout, DEFAULT_TIMEOUT),
    unregisterTimeout: positive('unregisterTimeout', init.unregisterTimeout, DEFAULT_UNREGISTER_TIMEOUT)
  }
}

function checkNamespace (namespace: string): void {
  const problem = namespaceProblem(namespace)
  if (problem != null) throw new InvalidParametersError(`Invalid namespace "${namespace}": ${problem}`)
}

function taskName (kind: 'register' | 'discover', point: Point, namespace: string): string {
  return `${kind} ${point.key} ${namespace}`
}

/** The task that dials a point while we wait for an address (see `reachPoints`) */
function reachName (point: Point): string {
  return `reach ${point.key}`
}

function pointKey (point: Point, namespace: string): string {
  return `${point.key}\n${namespace}`
}

const EXPIRE_TASK = 'expire'

/**
 * Registers this node in rendezvous namespaces at every configured point and
 * keeps the registrations fresh; polls the points for the peers registered
 * there and keeps a view of them, cached across page loads.
 *
 * The pieces: `RendezvousClient` speaks the protocol, `DeadlineScheduler`
 * decides when (absolute deadlines, paused discovery while hidden),
 * `PeerView`, `RegistrationBook` and `PointBook` hold state, the cache persists it. This
 * class wires them together and owns the lifecycle: nothing runs before
 * `afterStart()`, and after `stop()` no timer, event or request remains.
 */
export class RendezvousDiscoveryService extends TypedEventEmitter<RendezvousDiscoveryEvents> implements RendezvousDiscovery, Startable {
  readonly [Symbol.toStringTag] = 'libp2p-rendezvous:discovery'
  readonly [serviceCapabilities]: string[] = ['@libp2p/peer-discovery', '@libp2p/rendezvous-discovery']

  private readonly components: RendezvousDiscoveryComponents
  private readonly log: Logger
  private readonly client: RendezvousClient
  private readonly points: Point[]
  private readonly settings: Settings
  private readonly clock: Clock
  private readonly visibility: Visibility
  private readonly cacheFactory?: RegistrationCacheFactory
  private readonly allowEmptyAddresses: boolean
  private readonly backoff: Backoff
  private readonly view: PeerView
  private readonly book = new RegistrationBook()
  private readonly pointBook = new PointBook()
  /** Namespaces we keep registered, with the TTL asked for */
  private readonly registered = new Map<string, number>()
  /** Namespaces polled in the background */
  private readonly polled: Set<string>
  private readonly cookies = new Map<string, Uint8Array>()
  private readonly polls = new Map<string, number>()
  /**
   * Point and namespace pairs whose last full walk returned less than a
   * page. A poll without a cookie costs them about what one with a cookie
   * does (a page and the empty one that ends it), and it also notices who
   * left, so they are always polled that way.
   */
  private readonly small = new Set<string>()
  /** Point and namespace pairs where a walk has returned our own record since start-up */
  private readonly selfSeen = new Set<string>()
  /** Points whose connection closed and has not opened again */
  private readonly disconnected = new Set<string>()
  /** Points that refused our TTL; they are asked for FALLBACK_TTL from then on */
  private readonly fallbackTtl = new Set<string>()
  /** Namespaces read from the cache into the view */
  private readonly loaded = new Map<string, Promise<void>>()
  private readonly cacheWrites = new Map<string, Promise<void>>()
  /** Namespaces with a write queued that has not begun; it will save the view as it is when it does */
  private readonly queuedWrites = new Set<string>()

  private cache?: RegistrationCache
  private shutdown?: AbortController
  private scheduler?: DeadlineScheduler
  private subscriptions: Array<() => void> = []
  private started = false
  /** From afterStart to stop: the only time events are emitted and tasks run */
  private running = false
  /**
   * Our addresses (as one string) when we last looked. Only a change sends
   * everything to register again: libp2p raises `self:peer:update` for other
   * reasons too, and those must not cut short a failing point's backoff.
   */
  private lastAddresses = ''
  private waitingLogged = false
  private persistedSeq = 0n
  private unregistering?: Promise<void>
  /** `beforeunload` sent our UNREGISTERs; no REGISTER goes out until the page is back (see `onLeave`) */
  private leaving?: { sent: Promise<void>, timer: TimerId }
  /** REGISTERs on their way, per point and namespace; an UNREGISTER waits for its REGISTER so as not to overtake it */
  private readonly registering = new Map<string, Promise<unknown>>()

  constructor (components: RendezvousDiscoveryComponents, init: RendezvousDiscoveryInit) {
    super()
    this.components = components
    this.log = components.logger.forComponent('libp2p:rendezvous:discovery')
    this.points = parsePoints(init.points ?? [])
    if (this.points.length === 0) {
      throw new InvalidParametersError('At least one rendezvous point is needed')
    }
    this.settings = resolveSettings(init)
    const namespaces = init.namespaces ?? []
    namespaces.forEach(checkNamespace)
    for (const namespace of namespaces) this.registered.set(namespace, this.settings.ttl)
    this.polled = new Set(namespaces)
    this.clock = init.clock ?? systemClock
    this.visibility = init.visibility ?? documentVisibility()
    this.cacheFactory = init.cache === false
      ? undefined
      : init.cache ?? (globalThis.indexedDB != null ? idbCache() : memoryCache())
    this.backoff = new Backoff({
      initial: positive('retryDelay', init.retryDelay, DEFAULT_RETRY_DELAY),
      max: positive('maxRetryDelay', init.maxRetryDelay, DEFAULT_MAX_RETRY_DELAY)
    })
    // each point gets its share, so one hostile point cannot crowd out the peers of the others
    this.view = new PeerView(Math.ceil(positive('maxPeers', init.maxPeers, DEFAULT_MAX_PEERS) / this.points.length))
    this.client = new RendezvousClient(components, {
      protocol: init.protocol,
      timeout: this.settings.timeout,
      addressFilter: init.addressFilter,
      allowEmptyAddresses: init.allowEmptyAddresses,
      legacyUnregisterId: init.legacyUnregisterId,
      now: () => this.clock.now()
    })
    this.allowEmptyAddresses = init.allowEmptyAddresses === true
  }

  get [peerDiscoverySymbol] (): PeerDiscovery {
    return this
  }

  isStarted (): boolean {
    return this.started
  }

  /** Read our sequence number and the cached peers of our namespaces; nothing is emitted or sent yet */
  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    this.unregistering = undefined
    const shutdown = new AbortController()
    setMaxListeners(Infinity, shutdown.signal)
    this.shutdown = shutdown

    const cache = this.openCache()
    if (cache != null) {
      try {
        const seq = await cache.loadSeq({ signal: shutdown.signal })
        if (seq != null) {
          this.client.ownRecord.raiseSeqFloor(seq)
          this.persistedSeq = seq
        }
      } catch (err) {
        this.log.error('could not read our last sequence number - %e', err)
      }
    }
    await Promise.all([...this.polled].map(async namespace => this.load(namespace)))
  }

  /** Emit the cached peers, then start registering and polling */
  afterStart (): void {
    if (!this.started || this.running || this.shutdown == null) return
    this.running = true

    const now = this.clock.now()
    this.pointBook.reset(this.points.map(point => point.id), now)
    for (const namespace of this.polled) {
      for (const peer of this.view.peers(namespace, now)) {
        this.announce(namespace, 'added', peer, undefined)
      }
    }

    const scheduler = new DeadlineScheduler({
      clock: this.clock,
      log: this.log,
      signal: this.shutdown.signal,
      visible: this.visibility.visible,
      wakeInterval: WAKE_INTERVAL
    })
    this.scheduler = scheduler
    this.subscriptions.push(this.visibility.subscribe(event => {
      if (event === 'visible' || event === 'hidden') {
        scheduler.setVisible(event === 'visible')
      } else if (event === 'resume') {
        scheduler.wake()
        this.comeBack()
      } else if (event === 'leave') {
        this.onLeave()
      } else {
        this.onExit()
      }
    }))
    // libp2p tells `self:peer:update` a second after a listener changes (it debounces); a
    // listener starting or closing (a relay reservation, typically) is worth a look at once
    const onAddresses = (): void => { this.onAddressesChanged() }
    for (const type of ['self:peer:update', 'transport:listening', 'transport:close'] as const) {
      this.components.events.addEventListener(type, onAddresses)
      this.subscriptions.push(() => { this.components.events.removeEventListener(type, onAddresses) })
    }
    const onConnect = (evt: CustomEvent<PeerId>): void => { this.onPointConnected(evt.detail) }
    const onDisconnect = (evt: CustomEvent<PeerId>): void => { this.onPointDisconnected(evt.detail) }
    this.components.events.addEventListener('peer:connect', onConnect)
    this.components.events.addEventListener('peer:disconnect', onDisconnect)
    this.subscriptions.push(() => {
      this.components.events.removeEventListener('peer:connect', onConnect)
      this.components.events.removeEventListener('peer:disconnect', onDisconnect)
    })

    this.lastAddresses = this.addressesKey()
    for (const namespace of this.registered.keys()) this.keepRegistered(namespace, now)
    for (const namespace of this.polled) this.keepPolling(namespace)
    scheduler.add(EXPIRE_TASK, async () => this.expire(), { whileHidden: true, at: this.view.nextExpiry() })
    scheduler.start()
  }

  /** Unregister while connections are still up: libp2p stops transports after this */
  async beforeStop (): Promise<void> {
    await this.unregisterEverywhere()
  }

  async stop (): Promise<void> {
    if (!this.started) return
    await this.unregisterEverywhere()
    this.started = false
    this.running = false
    this.shutdown?.abort()
    this.shutdown = undefined
    this.scheduler?.stop()
    this.scheduler = undefined
    this.endLeave()
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe()
    this.backoff.clear()
    this.polls.clear()
    this.small.clear()
    this.selfSeen.clear()
    this.disconnected.clear()
    this.book.clear()
    this.pointBook.clear()
    // a reload right after stop must find what this run learned
    await Promise.all(this.cacheWrites.values())
  }

  // ---- public API ----

  async register (namespace: string, options: RegisterOptions = {}): Promise<number> {
    this.assertRunning()
    checkNamespace(namespace)
    if (options.ttl != null) positive('ttl', options.ttl, options.ttl)
    this.registered.set(namespace, options.ttl ?? this.registered.get(namespace) ?? this.settings.ttl)
    // the explicit attempt below replaces the scheduled first one
    this.keepRegistered(namespace, Infinity)
    if (!this.hasAddresses()) {
      const err = new NoAddressesError()
      for (const point of this.points) this.registrationFailed(point, namespace, err)
      throw err
    }

    const results = await Promise.allSettled(this.points.map(async point => this.registerNow(point, namespace, options)))
    const granted = results.flatMap(r => r.status === 'fulfilled' ? [r.value] : [])
    if (granted.length > 0) return Math.min(...granted)
    options.signal?.throwIfAborted()
    throw failureOf(results.map(r => (r as PromiseRejectedResult).reason))
  }

  async unregister (namespace: string, options: AbortOptions = {}): Promise<void> {
    this.assertRunning()
    this.registered.delete(namespace)
    for (const point of this.points) this.scheduler?.remove(taskName('register', point, namespace))
    const signal = anySignal([options.signal, this.shutdown?.signal, AbortSignal.timeout(this.settings.timeout)])
    try {
      await Promise.all(this.points.map(async point => this.sendUnregister(point, namespace, signal)))
    } finally {
      signal.clear()
    }
    for (const point of this.points) {
      const state = this.book.delete(point.id, namespace)
      if (state != null) this.emit('registration:update', { ...state, status: 'unregistered', updatedAt: this.clock.now() })
    }
    options.signal?.throwIfAborted()
  }

  async discover (namespace: string, options: Omit<DiscoverOptions, 'cookie'> = {}): Promise<DiscoveredPeer[]> {
    this.assertRunning()
    checkNamespace(namespace)
    await this.load(namespace)
    return this.roundEverywhere(namespace, options.signal, 'all', {
      full: true,
      limit: options.limit ?? this.settings.limit,
      maxPages: 1,
      keepPartialCookie: false
    })
  }

  async * discoverAll (namespace: string, options: Omit<DiscoverAllOptions, 'cookie'> = {}): AsyncGenerator<DiscoveredPeer, void, undefined> {
    this.assertRunning()
    checkNamespace(namespace)
    await this.load(namespace)

    const queue = new AsyncQueue<DiscoveredPeer>()
    const consumer = new AbortController()
    const signal = anySignal([options.signal, consumer.signal])
    const round = this.roundEverywhere(namespace, signal, 'changes', {
      full: true,
      limit: options.pageSize ?? this.settings.limit,
      maxPages: options.maxPages ?? this.settings.maxPages,
      keepPartialCookie: false,
      onPeers: peers => { for (const peer of peers) queue.push(peer) }
    })
    round.then(() => { queue.end() }, err => { queue.fail(err) })

    const yielded = new Map<string, bigint>()
    try {
      for await (const peer of queue) {
        const key = peer.id.toString()
        const seq = yielded.get(key)
        if (seq != null && seq >= peer.seq) continue
        yielded.set(key, peer.seq)
        yield peer
      }
    } finally {
      // a consumer that stops early stops the walks too
      consumer.abort()
      signal.clear()
      await round.catch(() => {})
    }
  }

  async findPeers (namespace: string, options: FindPeersOptions = {}): Promise<DiscoveredPeer[]> {
    this.assertRunning()
    checkNamespace(namespace)
    await this.load(namespace)
    const cached = this.view.peers(namespace, this.clock.now())
    if (options.forceRefresh !== true && cached.length > 0) return cached
    await this.roundEverywhere(namespace, options.signal, 'changes', {
      full: true,
      limit: this.settings.limit,
      maxPages: this.settings.maxPages,
      keepPartialCookie: false
    })
    return this.view.peers(namespace, this.clock.now())
  }

  async clearCache (namespace?: string, options: AbortOptions = {}): Promise<void> {
    const names = namespace == null ? [...this.cacheWrites.keys()] : [namespace]
    // writes already queued must not bring back what is cleared
    await Promise.all(names.map(async name => this.cacheWrites.get(name)))
    const cache = this.openCache()
    if (cache != null) {
      try {
        await cache.clearRegistrations(namespace, options)
      } catch (err) {
        options.signal?.throwIfAborted()
        this.log.error('could not clear the cache - %e', err)
      }
    }
    for (const key of [...this.cookies.keys()]) {
      if (namespace == null || key.endsWith(`\n${namespace}`)) this.cookies.delete(key)
    }
    this.remove(this.view.clear(namespace), 'cleared')
  }

  getRegistrations (): RegistrationState[] {
    return this.book.all()
  }

  getPeers (namespace: string): DiscoveredPeer[] {
    return this.view.peers(namespace, this.clock.now())
  }

  getPoints (): PointState[] {
    return this.pointBook.all()
  }

  // ---- registration ----

  /** Make sure every point has a refresh task for `namespace`, first due at `at` */
  private keepRegistered (namespace: string, at: number): void {
    for (const point of this.points) {
      const name = taskName('register', point, namespace)
      if (this.scheduler?.has(name) === true) continue
      this.scheduler?.add(name, async signal => this.refresh(point, namespace, signal), { whileHidden: true, at })
    }
  }

  /** The scheduled run: register, and say when to run again */
  private async refresh (point: Point, namespace: string, shutdown: AbortSignal): Promise<number | undefined> {
    const signal = anySignal([shutdown, AbortSignal.timeout(this.settings.timeout)])
    try {
      return (await this.registerAt(point, namespace, signal))?.refreshAt
    } catch (err) {
      return this.registrationFailed(point, namespace, err)
    } finally {
      signal.clear()
    }
  }

  /** An attempt the caller waits for; it also sets when the next scheduled one runs */
  private async registerNow (point: Point, namespace: string, options: RegisterOptions): Promise<number> {
    const name = taskName('register', point, namespace)
    const signal = anySignal([options.signal, this.shutdown?.signal, AbortSignal.timeout(this.settings.timeout)])
    try {
      const result = await this.registerAt(point, namespace, signal)
      if (result == null) throw new NotStartedError('Unregistered while registering')
      this.scheduler?.schedule(name, result.refreshAt)
      return result.granted
    } catch (err) {
      // a caller who gave up says nothing about the point
      const retryAt = options.signal?.aborted === true ? undefined : this.registrationFailed(point, namespace, err)
      this.scheduler?.schedule(name, retryAt ?? Infinity)
      throw err
    } finally {
      signal.clear()
    }
  }

  /** Register at `point` at once, unless a REGISTER is already on its way there */
  private registerSoon (point: Point, namespace: string): void {
    if (this.registering.has(pointKey(point, namespace))) return
    this.scheduler?.runNow(taskName('register', point, namespace))
  }

  /**
   * REGISTER at one point. Resolves with the granted TTL and when to refresh,
   * or undefined when the namespace was unregistered or the service stopped
   * meanwhile.
   */
  private async registerAt (point: Point, namespace: string, signal: AbortSignal): Promise<{ granted: number, refreshAt: number } | undefined> {
    const key = pointKey(point, namespace)
    const attempt = this.registerOnce(point, namespace, signal)
    this.registering.set(key, attempt)
    try {
      return await attempt
    } finally {
      if (this.registering.get(key) === attempt) this.registering.delete(key)
    }
  }

  private async registerOnce (point: Point, namespace: string, signal: AbortSignal): Promise<{ granted: number, refreshAt: number } | undefined> {
    const ttl = this.registered.get(namespace)
    // once leaving (page exit, stop) has begun, a new REGISTER would undo it
    if (ttl == null || !this.running || this.isLeaving()) return undefined
    if (!this.hasAddresses()) throw new NoAddressesError()

    this.setRegistration(point, namespace, { status: 'registering', updatedAt: this.clock.now() })
    await this.persistSeq(signal)
    signal.throwIfAborted()

    const requested = this.fallbackTtl.has(point.key) ? FALLBACK_TTL : ttl
    let granted: number
    try {
      granted = await this.client.register(point.addresses, namespace, { ttl: requested, signal })
    } catch (err: any) {
      if (err?.name !== 'InvalidTTLError' || requested === FALLBACK_TTL) throw err
      // rust and nim points refuse anything under 2 h; 7200 s is the one TTL every point admits
      this.log('%p refused a TTL of %ds, asking for %ds', point.id, requested, FALLBACK_TTL)
      this.fallbackTtl.add(point.key)
      granted = await this.client.register(point.addresses, namespace, { ttl: FALLBACK_TTL, signal })
    }
    this.pointAnswered(point)

    // stop and page exit wait for this REGISTER before they unregister
    if (!this.running || this.unregistering != null) return undefined
    if (!this.registered.has(namespace) || this.leaving != null) {
      // unregistered (or left) while this REGISTER was on its way: it may have landed after the UNREGISTER
      void this.sendUnregister(point, namespace, this.shutdown?.signal)
      return undefined
    }

    const now = this.clock.now()
    const refreshAt = now + Math.round(this.refreshDelay(point, namespace, granted))
    this.waitingLogged = false
    this.setRegistration(point, namespace, {
      status: 'registered',
      ttl: granted,
      expiresAt: now + granted * 1000,
      refreshAt,
      updatedAt: now
    })
    return { granted, refreshAt }
  }

  /**
   * Milliseconds until the refresh of a registration the point granted for
   * `granted` seconds. A grant too short to refresh in time (a point answering
   * `ttl: 0`) is paced like a failure, backing off, so that it cannot make us
   * hammer the point.
   */
  private refreshDelay (point: Point, namespace: string, granted: number): number {
    const name = taskName('register', point, namespace)
    const delay = jitter(granted * 1000 * this.settings.refreshRatio)
    if (delay >= this.backoff.initial) {
      this.backoff.success(name)
      return delay
    }
    this.log.error('%p granted %ds in %s, too short to refresh in time; backing off', point.id, granted, namespace)
    return Math.max(delay, this.backoff.failure(name))
  }

  /** Record a failed attempt; resolves when to try again, or undefined to wait for something else */
  private registrationFailed (point: Point, namespace: string, err: any): number | undefined {
    if (!this.running || !this.registered.has(namespace)) return undefined
    const now = this.clock.now()
    if (err?.name === 'NoAddressesError') {
      if (!this.waitingLogged) {
        this.waitingLogged = true
        this.log('no address to advertise yet; registering as soon as there is one')
      }
      this.setRegistration(point, namespace, { status: 'waiting-for-addresses', updatedAt: now })
      this.reachPoints()
      return undefined
    }
    const delay = Math.round(this.backoff.failure(taskName('register', point, namespace)))
    this.log.error('registering in %s at %p failed, retrying in %dms - %e', namespace, point.id, delay, err)
    this.setRegistration(point, namespace, {
      status: 'error',
      error: String(err?.message ?? err),
      errorName: err?.name,
      retryAt: now + delay,
      updatedAt: now
    })
    this.pointFailed(point, err, now + delay)
    return now + delay
  }

  private setRegistration (point: Point, namespace: string, update: Parameters<RegistrationBook['update']>[2]): void {
    if (!this.running) return
    this.emit('registration:update', this.book.update(point.id, namespace, update))
  }

  private hasAddresses (): boolean {
    return this.allowEmptyAddresses || this.client.ownRecord.addresses().length > 0
  }

  private addressesKey (): string {
    return this.client.ownRecord.addresses().map(ma => ma.toString()).join(' ')
  }

  /** Seal the record we are about to send, and persist its sequence number first, so a reload never reuses it */
  private async persistSeq (signal: AbortSignal): Promise<void> {
    await this.client.ownRecord.seal({ signal })
    const seq = this.client.ownRecord.seq
    if (seq <= this.persistedSeq || this.cache == null) return
    try {
      await this.cache.saveSeq(seq, { signal })
      this.persistedSeq = seq
    } catch (err) {
      signal.throwIfAborted()
      this.log.error('could not persist our sequence number - %e', err)
    }
  }

  /** New addresses (a relay reservation, say): register again at once, everywhere */
  private onAddressesChanged (): void {
    if (!this.running) return
    const key = this.addressesKey()
    if (key === this.lastAddresses) return
    this.lastAddresses = key
    if (!this.hasAddresses()) return
    this.log('our addresses changed, registering again')
    this.stopReaching()
    for (const namespace of this.registered.keys()) {
      for (const point of this.points) this.scheduler?.runNow(taskName('register', point, namespace))
    }
  }

  /**
   * Without an address there is nothing to register, and in a browser the
   * address usually comes from a relay reservation at a point, which needs a
   * connection to it. Requests that would make one wait for the address, and
   * discovery polls stop while the page is hidden; so dial the points (best
   * effort, backing off) until an address appears.
   */
  private reachPoints (): void {
    for (const point of this.points) {
      const name = reachName(point)
      if (this.scheduler?.has(name) !== true) {
        this.scheduler?.add(name, async signal => this.reach(point, signal), { whileHidden: true })
      } else if (this.scheduler.deadline(name) === Infinity) {
        this.scheduler.runNow(name)
      }
    }
  }

  private stopReaching (): void {
    for (const point of this.points) {
      this.scheduler?.remove(reachName(point))
      this.backoff.success(reachName(point))
    }
  }

  /** One dial of `point` while we have no address; resolves when to look again */
  private async reach (point: Point, shutdown: AbortSignal): Promise<number | undefined> {
    if (!this.running || this.hasAddresses() || this.registered.size === 0) return undefined
    const signal = anySignal([shutdown, AbortSignal.timeout(this.settings.timeout)])
    let failure: unknown
    try {
      await this.components.connectionManager.openConnection(point.addresses, { signal })
      this.pointAnswered(point)
    } catch (err) {
      failure = err
    } finally {
      signal.clear()
    }
    if (!this.running) return undefined
    // connected or not, look again later, less and less often: the reservation may be slow to come
    const at = this.clock.now() + Math.round(this.backoff.failure(reachName(point)))
    if (failure != null) {
      this.log.error('dialling %p while waiting for an address failed - %e', point.id, failure)
      this.pointFailed(point, failure, at)
    }
    return at
  }

  private async sendUnregister (point: Point, namespace: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.client.unregister(point.addresses, namespace, { signal })
    } catch (err) {
      this.log.error('unregistering from %s at %p failed - %e', namespace, point.id, err)
    }
  }

  /** Whether leaving has begun (`beforeunload`, page exit, stop): nothing may register then */
  private isLeaving (): boolean {
    return this.unregistering != null || this.leaving != null
  }

  /** (point, namespace) pairs a REGISTER may have reached */
  private attempted (): Array<{ point: Point, namespace: string }> {
    return this.book.all().flatMap(state => {
      const point = this.points.find(p => p.id.equals(state.point))
      return point == null || state.status === 'waiting-for-addresses' ? [] : [{ point, namespace: state.namespace }]
    })
  }

  /** UNREGISTER every namespace at every point, once per stop, all within `unregisterTimeout` */
  private async unregisterEverywhere (): Promise<void> {
    if (!this.started) return
    this.unregistering ??= (async () => {
      const namespaces = [...this.registered.keys()]
      for (const namespace of namespaces) {
        for (const point of this.points) this.scheduler?.remove(taskName('register', point, namespace))
      }
      const attempted = this.attempted()
      if (attempted.length === 0) return
      const signal = AbortSignal.timeout(this.settings.unregisterTimeout)
      await Promise.all(attempted.map(async ({ point, namespace }) => {
        // an UNREGISTER that overtook a REGISTER on its way would leave us registered
        const inflight = this.registering.get(pointKey(point, namespace))
        if (inflight != null) await raceSignal(inflight, signal).catch(() => {})
        await this.sendUnregister(point, namespace, signal)
      }))
      for (const { point, namespace } of attempted) this.book.delete(point.id, namespace)
    })()
    await this.unregistering
  }

  /**
   * The page may be about to go (`beforeunload`). Chromium tears a page down
   * a few milliseconds after `pagehide`, too soon for a stream to open, but
   * up to a hundred after `beforeunload`: so UNREGISTER now, at once (no
   * waiting for REGISTERs on their way), and register no more. If the page is
   * still here `LEAVE_GRACE` later (the unload was cancelled) or comes back
   * from the bfcache, register again.
   */
  private onLeave (): void {
    if (!this.running || this.isLeaving()) return
    const signal = AbortSignal.timeout(this.settings.unregisterTimeout)
    const sent = Promise.all(this.attempted().map(async ({ point, namespace }) => this.sendUnregister(point, namespace, signal))).then(() => {})
    this.leaving = { sent, timer: this.clock.setTimeout(() => { this.comeBack() }, LEAVE_GRACE) }
  }

  /** Still here after `beforeunload`: register again everywhere */
  private comeBack (): void {
    if (this.leaving == null) return
    this.endLeave()
    if (!this.running || this.unregistering != null) return
    this.log('the page stayed after all; registering again')
    for (const namespace of this.registered.keys()) {
      for (const point of this.points) this.scheduler?.runNow(taskName('register', point, namespace))
    }
  }

  private endLeave (): void {
    if (this.leaving != null) this.clock.clearTimeout(this.leaving.timer)
    this.leaving = undefined
  }

  /** The page is going away for good: unregister now (unless `beforeunload` already did), because nothing will run later */
  private onExit (): void {
    if (this.leaving != null) {
      this.unregistering ??= this.leaving.sent
      return
    }
    void this.unregisterEverywhere()
  }

  // ---- points ----

  /** The point answered a request (even if it refused it) */
  private pointAnswered (point: Point): void {
    if (!this.running) return
    this.emitPoint(this.pointBook.success(point.id, this.clock.now()))
  }

  /** A request to the point failed; `retryAt` is when it runs again, if it does */
  private pointFailed (point: Point, err: unknown, retryAt?: number): void {
    if (!this.running) return
    if (!isPointFailure(err)) {
      this.pointAnswered(point)
      return
    }
    this.emitPoint(this.pointBook.failure(point.id, err, this.clock.now(), retryAt))
  }

  private emitPoint (state: PointState | undefined): void {
    if (state != null) this.emit('point:update', state)
  }

  private pointOf (peer: PeerId): Point | undefined {
    return this.points.find(point => point.id.equals(peer))
  }

  private onPointDisconnected (peer: PeerId): void {
    const point = this.pointOf(peer)
    if (point == null || !this.running) return
    this.disconnected.add(point.key)
    this.emitPoint(this.pointBook.disconnected(point.id, this.clock.now()))
  }

  /**
   * A connection to a point opened after the last one closed. The point may
   * have restarted with an empty store and forgotten us, so register there
   * again now rather than at the next refresh, and retry failed polls now
   * rather than at the end of their backoff.
   */
  private onPointConnected (peer: PeerId): void {
    const point = this.pointOf(peer)
    if (point == null || !this.running) return
    this.emitPoint(this.pointBook.connected(point.id, this.clock.now()))
    if (!this.disconnected.delete(point.key)) return
    if (this.hasAddresses() && !this.isLeaving()) {
      for (const namespace of this.registered.keys()) this.registerSoon(point, namespace)
    }
    for (const namespace of this.polled) {
      const name = taskName('discover', point, namespace)
      if (this.backoff.count(name) > 0 && this.scheduler?.isRunning(name) === false) this.scheduler.runNow(name)
    }
  }

  // ---- discovery ----

  private keepPolling (namespace: string): void {
    for (const point of this.points) {
      const name = taskName('discover', point, namespace)
      if (this.scheduler?.has(name) === true) continue
      this.scheduler?.add(name, async signal => this.poll(point, namespace, signal), { whileHidden: false })
    }
  }

  /**
   * One scheduled poll of one point: without a cookie when the namespace is
   * small there (one page), else with the cookie and, every few polls, a
   * full walk to notice who left
   */
  private async poll (point: Point, namespace: string, signal: AbortSignal): Promise<number | undefined> {
    const key = pointKey(point, namespace)
    const count = this.polls.get(key) ?? 0
    this.polls.set(key, count + 1)
    const name = taskName('discover', point, namespace)
    try {
      await this.walk(point, namespace, {
        full: this.small.has(key) || count % this.settings.fullDiscoverEvery === 0,
        signal,
        limit: this.settings.limit,
        maxPages: this.settings.maxPages,
        announced: new Set(),
        keepPartialCookie: true
      })
      this.backoff.success(name)
      return this.clock.now() + Math.round(jitter(this.settings.discoverInterval))
    } catch (err) {
      if (!this.running) return undefined
      // a failing point is polled less often than a healthy one, never more
      const delay = Math.round(Math.max(this.backoff.failure(name), jitter(this.settings.discoverInterval)))
      this.log.error('discovering %s at %p failed, retrying in %dms - %e', namespace, point.id, delay, err)
      this.pointFailed(point, err, this.clock.now() + delay)
      return this.clock.now() + delay
    }
  }

  /** A walk at every point at once, merged; rejects only when every point failed */
  private async roundEverywhere (namespace: string, signal: AbortSignal | undefined, announce: Announce, init: Omit<WalkInit, 'signal' | 'announced'>): Promise<DiscoveredPeer[]> {
    const combined = anySignal([signal, this.shutdown?.signal])
    const announced = new Set<string>()
    try {
      const results = await Promise.allSettled(this.points.map(async point => {
        try {
          return await this.walk(point, namespace, { ...init, signal: combined, announced })
        } catch (err) {
          // a caller who gave up says nothing about the point
          if (signal?.aborted !== true) this.pointFailed(point, err)
          throw err
        }
      }))
      const found = results.flatMap(r => r.status === 'fulfilled' ? [r.value] : [])
      if (found.length === 0) {
        // the caller giving up is the one failure worth reporting
        signal?.throwIfAborted()
        throw failureOf(results.map(r => (r as PromiseRejectedResult).reason))
      }
      const seen = new Set(found.flat().map(peer => peer.id.toString()))
      const peers = this.view.peers(namespace, this.clock.now()).filter(peer => seen.has(peer.id.toString()))
      if (announce === 'all') {
        // once per peer per round, however many points returned it
        for (const peer of peers) {
          if (!announced.has(peer.id.toString())) this.emit('peer', { id: peer.id, multiaddrs: peer.multiaddrs })
        }
      }
      return peers
    } finally {
      combined.clear()
    }
  }

  /** Walk `namespace` at one point into the view; resolves the peers it returned, as the view has them now */
  private async walk (point: Point, namespace: string, init: WalkInit): Promise<DiscoveredPeer[]> {
    const key = pointKey(point, namespace)
    // our registration was in force when the walk began, so every page of it should hold our record
    const registeredBefore = this.book.get(point.id, namespace)?.status === 'registered'
    const present = new Set<string>()
    const seen: DiscoveredPeer[] = []
    let sawSelf = false
    const result = await walkNamespace(this.client, point.addresses, namespace, {
      cookie: init.full ? undefined : this.cookies.get(key),
      limit: init.limit,
      maxPages: init.maxPages,
      pageSignal: () => anySignal([init.signal, AbortSignal.timeout(this.settings.timeout)]),
      onPage: registrations => {
        if (!this.running) return
        if (registrations.some(r => r.peerId.equals(this.components.peerId))) sawSelf = true
        const peers = this.ingest(namespace, point, registrations, init.announced)
        for (const peer of peers) present.add(peer.id.toString())
        seen.push(...peers)
        init.onPeers?.(peers)
      }
    })
    if (!this.running) return seen
    this.pointAnswered(point)

    if (result.complete || init.keepPartialCookie) {
      if (result.cookie != null) this.cookies.set(key, result.cookie)
      else this.cookies.delete(key)
    }
    if (result.full && result.complete) {
      this.remove(this.view.reconcile(namespace, point.key, present), 'unregistered')
      if (result.received < init.limit) this.small.add(key)
      else this.small.delete(key)
      this.checkOwnRegistration(point, namespace, registeredBefore, sawSelf)
    } else if (result.full) {
      this.small.delete(key)
    }
    if (sawSelf) this.selfSeen.add(key)
    this.persist(namespace)
    return seen
  }

  /**
   * A complete walk from scratch that no longer returns our own record, at a
   * point that has returned it before: the point has forgotten us (a restart
   * with an empty store, a lost database). Register there again now instead
   * of at the next refresh. Points that never return the asker's own record
   * are left alone, because they never had.
   */
  private checkOwnRegistration (point: Point, namespace: string, registeredBefore: boolean, sawSelf: boolean): void {
    const key = pointKey(point, namespace)
    if (sawSelf || !registeredBefore || !this.selfSeen.has(key) || !this.registered.has(namespace) || this.isLeaving()) return
    this.log('%p no longer holds our registration in %s; registering again', point.id, namespace)
    this.selfSeen.delete(key)
    this.registerSoon(point, namespace)
  }

  /** Verified registrations from one point into the view, telling listeners what changed */
  private ingest (namespace: string, point: Point, registrations: Registration[], announced: Set<string>): DiscoveredPeer[] {
    const now = this.clock.now()
    const peers: DiscoveredPeer[] = []
    let refused = 0
    for (const registration of registrations) {
      if (registration.peerId.equals(this.components.peerId)) continue
      if (registration.ttl <= 0) continue
      const { change, peer, previous } = this.view.upsert(namespace, {
        id: registration.peerId,
        multiaddrs: registration.multiaddrs,
        seq: registration.seq,
        signedPeerRecord: ownBytes(registration.signedPeerRecord),
        source: 'network',
        points: [[point.key, now + registration.ttl * 1000]]
      })
      if (change === 'full') {
        refused++
        continue
      }
      if (this.announce(namespace, change, peer, previous)) announced.add(peer.id.toString())
      peers.push(peer)
    }
    if (refused > 0) this.log.error('%p has brought as many peers into %s as it may; left out %d more', point.id, namespace, refused)
    this.scheduler?.schedule(EXPIRE_TASK, this.view.nextExpiry())
    this.persist(namespace)
    return peers
  }

  /** Tell listeners what changed in the view; resolves whether `peer` was emitted */
  private announce (namespace: string, change: ViewChange, peer: DiscoveredPeer, previous: DiscoveredPeer | undefined): boolean {
    const changed = change === 'added' || change === 'updated'
    if (changed || change === 'refreshed') {
      this.emit('peer:update', { namespace, peer, previous })
    }
    if (changed) {
      this.emit('peer', { id: peer.id, multiaddrs: peer.multiaddrs })
    }
    return changed
  }

  private remove (peers: DiscoveredPeer[], reason: PeerRemovalReason): void {
    const namespaces = new Set<string>()
    for (const peer of peers) {
      namespaces.add(peer.namespace)
      this.emit('peer:remove', { namespace: peer.namespace, peer, reason })
    }
    for (const namespace of namespaces) this.persist(namespace)
  }

  /** The expiry task: drop lapsed registrations, and run again at the next lapse */
  private async expire (): Promise<number | undefined> {
    const now = this.clock.now()
    this.remove(this.view.expire(now), 'expired')
    const next = this.view.nextExpiry()
    return next === Infinity ? undefined : next
  }

  // ---- cache ----

  private openCache (): RegistrationCache | undefined {
    if (this.cache == null && this.cacheFactory != null) {
      const self = this.components.peerId
      this.cache = withMemoryFallback(this.cacheFactory(self), self, err => {
        this.log.error('the registration cache failed, keeping registrations in memory from now on - %e', err)
      })
    }
    return this.cache
  }

  /** Read the cached peers of `namespace` into the view, once; each record is verified again */
  private async load (namespace: string): Promise<void> {
    let loading = this.loaded.get(namespace)
    if (loading == null) {
      loading = this.readCache(namespace)
      this.loaded.set(namespace, loading)
    }
    await loading
  }

  private async readCache (namespace: string): Promise<void> {
    const cache = this.openCache()
    if (cache == null) return
    let cached
    try {
      cached = await cache.loadRegistrations(namespace, { signal: this.shutdown?.signal })
    } catch (err) {
      this.log.error('could not read cached registrations of %s - %e', namespace, err)
      return
    }

    const now = this.clock.now()
    const sightings = await Promise.all(cached.map(async (entry): Promise<Sighting | undefined> => {
      const points = entry.points.filter(([, at]) => at > now)
      if (points.length === 0) return undefined
      try {
        const record = await openPeerRecord(entry.signedPeerRecord)
        if (record.peerId.toString() !== entry.peerId || record.peerId.equals(this.components.peerId)) return undefined
        return { id: record.peerId, multiaddrs: record.multiaddrs, seq: record.seq, signedPeerRecord: entry.signedPeerRecord, source: 'cache', points }
      } catch (err) {
        this.log.error('dropped a cached registration of %s - %e', entry.peerId, err)
        return undefined
      }
    }))

    for (const sighting of sightings) {
      if (sighting == null) continue
      const { change, peer, previous } = this.view.upsert(namespace, sighting)
      // before afterStart these are held back, and announced there all at once
      if (this.running) this.announce(namespace, change, peer, previous)
    }
    this.scheduler?.schedule(EXPIRE_TASK, this.view.nextExpiry())
    if (sightings.some(s => s == null)) {
      // prune what lapsed or failed verification
      this.persist(namespace)
    }
  }

  /**
   * Save `namespace` as the view has it when the write runs. Writes to one
   * namespace never overtake each other, and calls while one is queued add
   * nothing, so a walk of many pages costs a write or two, not one per page.
   */
  private persist (namespace: string): void {
    const cache = this.cache
    if (cache == null || !this.started || this.queuedWrites.has(namespace)) return
    this.queuedWrites.add(namespace)
    const previous = this.cacheWrites.get(namespace) ?? Promise.resolve()
    const write = previous.then(async () => {
      this.queuedWrites.delete(namespace)
      await cache.saveRegistrations(namespace, this.view.toCache(namespace))
    }).catch(err => {
      this.log.error('could not cache registrations of %s - %e', namespace, err)
    }).finally(() => {
      if (this.cacheWrites.get(namespace) === write) this.cacheWrites.delete(namespace)
    })
    this.cacheWrites.set(namespace, write)
  }

  // ---- plumbing ----

  private assertRunning (): void {
    if (!this.running) throw new NotStartedError('The rendezvous discovery service is not started')
  }

  /** Every event goes through here, and none leaves while the service is not running */
  private emit<K extends keyof RendezvousDiscoveryEvents> (type: K, detail: RendezvousDiscoveryEvents[K]['detail']): void {
    if (!this.running) return
    this.safeDispatchEvent(type, { detail })
  }
}
