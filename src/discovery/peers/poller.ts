import { anySignal } from 'any-signal'
import { walkNamespace } from '../../client/namespace-walk.ts'
import { failureOf } from '../errors.ts'
import { PairTable } from '../points/pair-table.ts'
import { jitter } from '../timing/backoff.ts'
import { Round } from './round.ts'
import type { DiscoveredPeers } from './discovered-peers.ts'
import type { Sighting } from './peer-view.ts'
import type { DiscoveredPeer } from '../api.ts'
import type { Registration } from '../../client/api.ts'
import type { Requests } from '../../client/requests.ts'
import type { Context, Point, Run } from '../context.ts'
import type { PointHealth } from '../points/point-health.ts'
import type { Task } from '../timing/scheduler.ts'

/** What polling asks of our own registrations */
export interface OwnRegistrations {
  /** Whether the point has accepted our record in `namespace` and it is in force */
  isRegistered(point: Point, namespace: string): boolean
  /** The point no longer holds our record where it did; resolves whether a REGISTER is on its way */
  forgotten(point: Point, namespace: string): boolean
}

/** What polling knows of one namespace at one point */
interface PollState {
  point: Point
  namespace: string
  /** Asks for what the last walk did not see */
  cookie?: Uint8Array
  polls: number
  /**
   * The last complete walk from scratch returned less than a page: a poll
   * without a cookie costs about what one with a cookie does (a page and the
   * empty one that ends it), and it also notices who left, so it always goes so
   */
  small: boolean
  /** A walk has returned our own record since start-up */
  selfSeen: boolean
  /** Failed polls in a row */
  failures: number
  /** The background poll, for namespaces polled from start */
  task?: Task
}

interface WalkInit {
  /** Start without a cookie */
  full: boolean
  limit: number
  maxPages: number
  signal: AbortSignal
  /** Keep the cookie the walk ends with even if it did not reach the end (a poll picks up where it stopped) */
  keepPartialCookie: boolean
  see(sighting: Sighting): void
}

export interface RoundInit {
  limit: number
  maxPages: number
  /** Each peer as soon as it is new to the round or has a newer record in it */
  onPeer?(peer: DiscoveredPeer): void
  /** Emit `peer` for every peer the round returned, not only for new and changed ones */
  announceAll: boolean
}

/**
 * Finds who is registered: polls every point for the namespaces given at
 * start (while the page is visible), and runs the rounds the public methods
 * ask for. Every walk goes through `walkNamespace`, and what it returns into
 * the view: a poll's peers as soon as each record verifies, a round's once
 * every point has answered, so that the newest record wins before anything
 * is emitted.
 */
export class Poller {
  readonly #context: Context
  readonly #requests: Requests
  readonly #peers: DiscoveredPeers
  readonly #health: PointHealth
  readonly #own: OwnRegistrations
  readonly #state = new PairTable<PollState>((point, namespace) => ({ point, namespace, polls: 0, small: false, selfSeen: false, failures: 0 }))
  #run?: Run

  constructor (context: Context, requests: Requests, peers: DiscoveredPeers, health: PointHealth, own: OwnRegistrations) {
    this.#context = context
    this.#requests = requests
    this.#peers = peers
    this.#health = health
    this.#own = own
  }

  /** Poll each point for each namespace given at start, first now */
  start (run: Run): void {
    this.#run = run
    for (const namespace of this.#context.settings.namespaces) {
      for (const point of this.#context.settings.points) {
        const state = this.#state.get(point, namespace)
        state.task = run.scheduler.add(`discover ${point.key} ${namespace}`, async signal => this.#poll(state, signal), { whileHidden: false })
      }
    }
  }

  stop (): void {
    this.#run = undefined
    this.#state.clear()
  }

  /** The connection to `point` opened again: retry failed polls there now rather than at the end of their backoff */
  reconnected (point: Point): void {
    for (const namespace of this.#context.settings.namespaces) {
      const state = this.#state.find(point, namespace)
      if (state?.task != null && state.failures > 0 && !state.task.running) state.task.runNow()
    }
  }

  /** Cookies of `namespace` (or all) no longer apply: its peers were forgotten */
  forget (namespace?: string): void {
    for (const state of this.#state.list(namespace)) state.cookie = undefined
  }

  /**
   * A walk of `namespace` from scratch at every point at once, merged; rejects
   * only when every point failed. Resolves the peers it returned, as the view has them.
   */
  async round (namespace: string, signal: AbortSignal | undefined, init: RoundInit): Promise<DiscoveredPeer[]> {
    const combined = anySignal([signal, this.#run?.signal])
    const round = new Round(namespace)
    const see = (sighting: Sighting): void => {
      const peer = round.add(sighting)
      if (peer != null) init.onPeer?.(peer)
    }
    let results: Array<PromiseSettledResult<void>>
    try {
      results = await Promise.allSettled(this.#context.settings.points.map(async point => {
        try {
          await this.#walk(this.#state.get(point, namespace), { full: true, limit: init.limit, maxPages: init.maxPages, signal: combined, keepPartialCookie: false, see })
        } catch (err) {
          // a caller who gave up says nothing about the point
          if (signal?.aborted !== true) this.#health.failed(point, err)
          throw err
        }
      }))
    } finally {
      combined.clear()
    }

    const announced = new Set<string>()
    let leftOut = 0
    for (const sighting of round.sightings()) {
      const { change } = this.#peers.see(namespace, sighting)
      if (change === 'added' || change === 'updated') announced.add(sighting.id.toString())
      if (change === 'full') leftOut++
    }
    if (leftOut > 0) this.#context.log.error('the points have brought as many peers into %s as they may; left out %d more', namespace, leftOut)
    if (results.every(r => r.status === 'rejected')) {
      // the caller giving up is the one failure worth reporting
      signal?.throwIfAborted()
      throw failureOf(results.map(r => (r as PromiseRejectedResult).reason))
    }
    const seen = round.ids()
    const peers = this.#peers.peers(namespace).filter(peer => seen.has(peer.id.toString()))
    if (init.announceAll) {
      // once per peer per round, however many points returned it
      for (const peer of peers) {
        if (!announced.has(peer.id.toString())) this.#context.emit('peer', { id: peer.id, multiaddrs: peer.multiaddrs })
      }
    }
    return peers
  }

  /**
   * One scheduled poll of one point: without a cookie when the namespace is
   * small there (one page), else with the cookie and, every few polls, a
   * full walk to notice who left. After a failure the next try comes after
   * the retry backoff, so a point down for a moment costs seconds, not a poll interval.
   */
  async #poll (state: PollState, signal: AbortSignal): Promise<number | undefined> {
    const { settings, clock, log } = this.#context
    const count = state.polls++
    let leftOut = 0
    try {
      await this.#walk(state, {
        full: state.small || count % settings.fullDiscoverEvery === 0,
        limit: settings.limit,
        maxPages: settings.maxPages,
        signal,
        keepPartialCookie: true,
        see: sighting => {
          if (this.#peers.see(state.namespace, sighting).change === 'full') leftOut++
        }
      })
      state.failures = 0
      return clock.now() + Math.round(jitter(settings.discoverInterval))
    } catch (err) {
      if (this.#run == null) return undefined
      const delay = Math.round(settings.backoff.delay(++state.failures))
      log.error('discovering %s at %p failed, retrying in %dms - %e', state.namespace, state.point.id, delay, err)
      this.#health.failed(state.point, err, clock.now() + delay)
      return clock.now() + delay
    } finally {
      if (leftOut > 0) log.error('%p has brought as many peers into %s as it may; left out %d more', state.point.id, state.namespace, leftOut)
    }
  }

  /** Walk `state`'s namespace at its point, handing every verified registration of another peer to `init.see` */
  async #walk (state: PollState, init: WalkInit): Promise<void> {
    const { point, namespace } = state
    const { self, settings, clock } = this.#context
    // our registration was in force when the walk began, so every page of it should hold our record
    const registeredBefore = this.#own.isRegistered(point, namespace)
    // what the cache holds is in the view before the network adds to it (a cold cache answers long before the point)
    await this.#peers.load(namespace)
    const present = new Set<string>()
    let sawSelf = false
    const onRegistration = (registration: Registration): void => {
      if (this.#run == null) return
      if (registration.peerId.equals(self)) {
        sawSelf = true
      } else if (registration.ttl > 0) {
        present.add(registration.peerId.toString())
        init.see({
          id: registration.peerId,
          multiaddrs: registration.multiaddrs,
          seq: registration.seq,
          signedPeerRecord: registration.signedPeerRecord,
          certified: registration.certified,
          source: 'network',
          points: [[point.key, clock.now() + registration.ttl * 1000]]
        })
      }
    }
    const pages = walkNamespace(this.#requests, point.addresses, namespace, {
      cookie: init.full ? undefined : state.cookie,
      limit: init.limit,
      maxPages: init.maxPages,
      pageSignal: () => anySignal([init.signal, AbortSignal.timeout(settings.timeout)]),
      onRegistration
    })
    let next = await pages.next()
    while (next.done !== true) next = await pages.next()
    const result = next.value
    if (this.#run == null) return
    this.#health.answered(point)

    if (result.complete || init.keepPartialCookie) state.cookie = result.cookie
    if (result.full && result.complete) {
      this.#peers.reconcile(namespace, point.key, present)
      state.small = result.received < init.limit
      if (!sawSelf && registeredBefore && state.selfSeen && this.#own.forgotten(point, namespace)) state.selfSeen = false
    } else if (result.full) {
      state.small = false
    }
    if (sawSelf) state.selfSeen = true
    this.#peers.persist(namespace)
  }
}
