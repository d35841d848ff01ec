import { NotStartedError, peerDiscoverySymbol, serviceCapabilities } from '@libp2p/interface'
import { anySignal } from 'any-signal'
import { setMaxListeners, TypedEventEmitter } from 'main-event'
import { checkSignal, Requests } from '../client/requests.ts'
import { checkRuntime } from '../runtime.ts'
import { AsyncQueue } from './async-queue.ts'
import { CacheSync } from './cache/cache-sync.ts'
import { WAKE_INTERVAL } from './constants.ts'
import { checkNamespace, positive, resolveSettings } from './options.ts'
import { DiscoveredPeers } from './peers/discovered-peers.ts'
import { Poller } from './peers/poller.ts'
import { checkGater } from './points/gater.ts'
import { PointHealth } from './points/point-health.ts'
import { overWebSockets } from './points/points.ts'
import { Registrations } from './registrations/registrations.ts'
import { DeadlineScheduler } from './timing/scheduler.ts'
import type { DiscoveredPeer, FindPeersOptions, PointState, RegistrationState, RendezvousDiscovery, RendezvousDiscoveryComponents, RendezvousDiscoveryEvents, RendezvousDiscoveryInit } from './api.ts'
import type { Context, Run } from './context.ts'
import type { DiscoverAllOptions, DiscoverOptions, RegisterOptions } from '../client/api.ts'
import type { AbortOptions, PeerDiscovery, PeerId, Startable } from '@libp2p/interface'

/**
 * Registers this node in rendezvous namespaces at every configured point and
 * finds the peers registered there. The work is done by its parts, each with
 * its own state: `Registrations` keeps us registered, `Poller` finds peers,
 * `DiscoveredPeers` holds the view of them, `CacheSync` keeps that view
 * across page loads, `PointHealth` follows each point; `Requests` speaks the
 * protocol and `DeadlineScheduler` decides when. This class wires them to
 * libp2p and the page, and owns the lifecycle and the public methods.
 *
 * Cached peers are read as soon as the service is made; the first few are
 * emitted within `start()`, the rest as their records verify after `afterStart()`; nothing is sent or
 * scheduled before `afterStart()`, and after `stop()` no timer, event or
 * request remains.
 */
export class RendezvousDiscoveryService extends TypedEventEmitter<RendezvousDiscoveryEvents> implements RendezvousDiscovery, Startable {
  readonly [Symbol.toStringTag] = 'libp2p-rendezvous:discovery'
  readonly [serviceCapabilities]: string[] = ['@libp2p/peer-discovery', '@libp2p/rendezvous-discovery']

  readonly #components: RendezvousDiscoveryComponents
  readonly #context: Context
  readonly #cache: CacheSync
  readonly #peers: DiscoveredPeers
  readonly #health: PointHealth
  readonly #registrations: Registrations
  readonly #poller: Poller
  #subscriptions: Array<() => void> = []
  /** From `start()` to `stop()`: events may be emitted */
  #started = false
  /** Whether an earlier run has read the cache already */
  #ranBefore = false
  /** From `afterStart()` to `stop()`: requests go out and tasks run */
  #run?: Run & { shutdown: AbortController }

  constructor (components: RendezvousDiscoveryComponents, init: RendezvousDiscoveryInit) {
    super()
    const settings = resolveSettings(init)
    checkRuntime(overWebSockets(settings.points))
    this.#components = components
    this.#context = {
      self: components.peerId,
      log: components.logger.forComponent('libp2p:rendezvous:discovery'),
      clock: settings.clock,
      settings,
      emit: (type, detail) => {
        if (this.#started) this.safeDispatchEvent(type, { detail })
      }
    }
    const requests = new Requests(components, settings.requests)
    this.#cache = new CacheSync(this.#context)
    this.#peers = new DiscoveredPeers(this.#context, this.#cache)
    this.#health = new PointHealth(this.#context, components.connectionManager)
    this.#registrations = new Registrations(this.#context, components, requests, this.#health, this.#cache)
    this.#poller = new Poller(this.#context, requests, this.#peers, this.#health, this.#registrations)
  }

  get [peerDiscoverySymbol] (): PeerDiscovery {
    return this
  }

  isStarted (): boolean {
    return this.#started
  }

  /**
   * Emit the cache's first look at once and leave the rest of the cache to
   * load behind it, each peer as soon as its record verifies once libp2p has
   * started: libp2p's own start waits for no IndexedDB and no WebCrypto of
   * ours, nor shares the page with them. Nothing is sent yet. Rejects with
   * `PointsDeniedError` when the connection gater refuses every point (libp2p
   * then stops the node); that check, the gater's answers, is all it awaits,
   * after the first look.
   */
  start (): Promise<void> {
    if (this.#started) return Promise.resolve()
    this.#started = true
    this.#cache.start()
    for (const namespace of this.#context.settings.namespaces) {
      void this.#peers.load(namespace)
      if (this.#ranBefore) this.#peers.announce(namespace)
    }
    this.#ranBefore = true
    return checkGater(this.#components.connectionGater, this.#context.settings.points)
  }

  /** Start registering and polling */
  afterStart (): void {
    if (!this.#started || this.#run != null) return
    const { clock, log, settings } = this.#context
    const shutdown = new AbortController()
    setMaxListeners(Infinity, shutdown.signal)
    const scheduler = new DeadlineScheduler({ clock, log, signal: shutdown.signal, visible: settings.visibility.visible, wakeInterval: WAKE_INTERVAL })
    const run = { scheduler, signal: shutdown.signal, shutdown }
    this.#run = run
    this.#subscribe(scheduler)
    this.#cache.afterStart()
    this.#health.start(run)
    this.#peers.start(run)
    this.#registrations.start(run)
    this.#poller.start(run)
    scheduler.start()
  }

  /** Unregister while connections are still up: libp2p stops transports after this */
  async beforeStop (): Promise<void> {
    if (this.#run != null) await this.#registrations.leaveEverywhere()
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    if (this.#run != null) await this.#registrations.leaveEverywhere()
    this.#started = false
    this.#run?.shutdown.abort()
    this.#run?.scheduler.stop()
    this.#run = undefined
    for (const unsubscribe of this.#subscriptions.splice(0)) unsubscribe()
    this.#registrations.stop()
    this.#poller.stop()
    this.#peers.stop()
    this.#health.stop()
    await this.#cache.stop()
  }

  // ---- public API ----

  async register (namespace: string, options: RegisterOptions = {}): Promise<number> {
    this.#ready(namespace, options)
    if (options.ttl != null) positive('ttl', options.ttl, options.ttl)
    return this.#registrations.register(namespace, options)
  }

  async unregister (namespace: string, options: AbortOptions = {}): Promise<void> {
    this.#ready(namespace, options)
    await this.#registrations.unregister(namespace, options)
  }

  async discover (namespace: string, options: Omit<DiscoverOptions, 'cookie'> = {}): Promise<DiscoveredPeer[]> {
    this.#ready(namespace, options)
    const limit = options.limit == null ? this.#context.settings.limit : Math.floor(positive('limit', options.limit, 1))
    return this.#poller.round(namespace, options.signal, { limit, maxPages: 1, announceAll: true })
  }

  async * discoverAll (namespace: string, options: Omit<DiscoverAllOptions, 'cookie'> = {}): AsyncGenerator<DiscoveredPeer, void, undefined> {
    this.#ready(namespace, options)
    const { settings } = this.#context
    const limit = options.pageSize == null ? settings.limit : Math.floor(positive('pageSize', options.pageSize, 1))
    const maxPages = options.maxPages == null ? settings.maxPages : Math.floor(positive('maxPages', options.maxPages, 1))

    const queue = new AsyncQueue<DiscoveredPeer>()
    const consumer = new AbortController()
    const signal = anySignal([options.signal, consumer.signal])
    const round = this.#poller.round(namespace, signal, { limit, maxPages, announceAll: false, onPeer: peer => { queue.push(peer) } })
    round.then(() => { queue.end() }, err => { queue.fail(err) })
    try {
      yield * queue
    } finally {
      // a consumer that stops early stops the walks too
      consumer.abort()
      signal.clear()
      await round.catch(() => {})
    }
  }

  async findPeers (namespace: string, options: FindPeersOptions = {}): Promise<DiscoveredPeer[]> {
    this.#ready(namespace, options)
    await this.#peers.load(namespace)
    const cached = this.#peers.peers(namespace)
    if (options.forceRefresh !== true && cached.length > 0) return cached
    const { limit, maxPages } = this.#context.settings
    await this.#poller.round(namespace, options.signal, { limit, maxPages, announceAll: false })
    return this.#peers.peers(namespace)
  }

  async clearCache (namespace?: string, options: AbortOptions = {}): Promise<void> {
    checkSignal(options.signal)
    if (namespace != null) checkNamespace(namespace)
    await this.#cache.clear(namespace, options)
    this.#poller.forget(namespace)
    this.#peers.clear(namespace)
  }

  getRegistrations (): RegistrationState[] {
    return this.#registrations.states()
  }

  getPeers (namespace: string): DiscoveredPeer[] {
    return this.#peers.peers(namespace)
  }

  getPoints (): PointState[] {
    return this.#health.all()
  }

  // ---- plumbing ----

  /** Every public method starts here: bad input and a caller who already gave up go no further */
  #ready (namespace: string, options: AbortOptions): void {
    if (this.#run == null) throw new NotStartedError('The rendezvous discovery service is not started')
    checkNamespace(namespace)
    checkSignal(options.signal)
  }

  /** Follow the page (visibility, freeze, unload) and libp2p (our addresses, connections to points) */
  #subscribe (scheduler: DeadlineScheduler): void {
    const { events } = this.#components
    this.#subscriptions.push(this.#context.settings.visibility.subscribe(event => {
      if (event === 'visible' || event === 'hidden') {
        scheduler.setVisible(event === 'visible')
      } else if (event === 'resume') {
        scheduler.wake()
        this.#registrations.comeBack()
      } else if (event === 'leave') {
        this.#registrations.leave()
      } else {
        this.#registrations.exit()
      }
    }))
    // libp2p tells `self:peer:update` a second after a listener changes (it debounces); a
    // listener starting or closing (a relay reservation, typically) is worth a look at once
    const onAddresses = (): void => { this.#registrations.addressesChanged() }
    const onConnect = (evt: CustomEvent<PeerId>): void => {
      const point = this.#health.connected(evt.detail)
      if (point == null) return
      this.#registrations.reconnected(point)
      this.#poller.reconnected(point)
    }
    const onDisconnect = (evt: CustomEvent<PeerId>): void => { this.#health.disconnected(evt.detail) }
    for (const type of ['self:peer:update', 'transport:listening', 'transport:close'] as const) {
      events.addEventListener(type, onAddresses)
      this.#subscriptions.push(() => { events.removeEventListener(type, onAddresses) })
    }
    events.addEventListener('peer:connect', onConnect)
    events.addEventListener('peer:disconnect', onDisconnect)
    this.#subscriptions.push(() => {
      events.removeEventListener('peer:connect', onConnect)
      events.removeEventListener('peer:disconnect', onDisconnect)
    })
  }
}
