import { NotStartedError } from '@libp2p/interface'
import { anySignal } from 'any-signal'
import { raceSignal } from 'race-signal'
import { checkSignal } from '../../client/requests.ts'
import { DEFAULT_TTL } from '../../constants.ts'
import { NoAddressesError } from '../../errors.ts'
import { LEAVE_GRACE } from '../constants.ts'
import { describeFailure, failureOf } from '../errors.ts'
import { PairTable } from '../points/pair-table.ts'
import { jitter } from '../timing/backoff.ts'
import { OurRecord } from './our-record.ts'
import { nextState } from './registration-state.ts'
import type { RegistrationUpdate } from './registration-state.ts'
import type { RegistrationState, TimerId } from '../api.ts'
import type { RegisterOptions, RendezvousClientComponents } from '../../client/api.ts'
import type { Requests } from '../../client/requests.ts'
import type { CacheSync } from '../cache/cache-sync.ts'
import type { Context, Point, Run } from '../context.ts'
import type { OwnRegistrations } from '../peers/poller.ts'
import type { PointHealth } from '../points/point-health.ts'
import type { Task } from '../timing/scheduler.ts'
import type { AbortOptions } from '@libp2p/interface'

/** Our registration in one namespace at one point */
interface Slot {
  point: Point
  namespace: string
  /** Absent until the first attempt */
  state?: RegistrationState
  /** Refreshes and retries, while the namespace is wanted */
  task?: Task
  /** The REGISTER on its way; an UNREGISTER waits for it so as not to overtake it */
  inflight?: Promise<unknown>
  /** Failures in a row */
  failures: number
}

interface Accepted {
  /** Seconds */
  granted: number
  /** Milliseconds since the epoch */
  refreshAt: number
}

/**
 * Keeps this node registered: in each wanted namespace at every point, with
 * our own signed record (which this part owns and seals once per change of
 * address), refreshed before the TTL each point granted runs out, retried
 * with backoff, asked again for 7200 s where a point refuses our TTL, done
 * again as soon as our addresses change or a point turns out to have
 * forgotten us; and undone everywhere when we leave.
 */
export class Registrations implements OwnRegistrations {
  readonly #context: Context
  readonly #requests: Requests
  readonly #health: PointHealth
  readonly #record: OurRecord
  /** Namespaces we keep registered, with the TTL asked for */
  readonly #wanted = new Map<string, number>()
  readonly #slots = new PairTable<Slot>((point, namespace) => ({ point, namespace, failures: 0 }))
  /** Points that refused our TTL; they are asked for 7200 s from then on */
  readonly #refusesTtl = new Set<Point>()
  #run?: Run
  #waitingLogged = false
  /** Stop or page exit: UNREGISTERs are on their way, and nothing registers again this run */
  #unregistering?: Promise<void>
  /** `beforeunload` sent our UNREGISTERs; no REGISTER goes out until the page is back (see `leave`) */
  #leaving?: { sent: Promise<void>, timer: TimerId }

  constructor (context: Context, components: Pick<RendezvousClientComponents, 'privateKey' | 'addressManager' | 'registrar'>, requests: Requests, health: PointHealth, cache: CacheSync) {
    this.#context = context
    this.#requests = requests
    this.#health = health
    this.#record = new OurRecord(context, components, cache)
    for (const namespace of context.settings.namespaces) this.#wanted.set(namespace, context.settings.ttl)
  }

  start (run: Run): void {
    this.#run = run
    this.#unregistering = undefined
    this.#record.start()
    const now = this.#context.clock.now()
    for (const namespace of this.#wanted.keys()) this.#keep(namespace, now)
  }

  stop (): void {
    this.#endLeave()
    this.#run = undefined
    this.#slots.clear()
  }

  /** Our registrations, per point and namespace */
  states (): RegistrationState[] {
    return this.#slots.list().flatMap(slot => slot.state == null ? [] : [{ ...slot.state }])
  }

  /** Register in `namespace` everywhere now and keep it so; resolves the shortest TTL granted */
  async register (namespace: string, options: RegisterOptions): Promise<number> {
    this.#wanted.set(namespace, options.ttl ?? this.#wanted.get(namespace) ?? this.#context.settings.ttl)
    // the attempt below replaces the scheduled first one
    this.#keep(namespace, Infinity)
    const slots = this.#context.settings.points.map(point => this.#slots.get(point, namespace))
    if (!this.#record.hasAddresses()) {
      const err = new NoAddressesError()
      for (const slot of slots) this.#failed(slot, err)
      throw err
    }
    const results = await Promise.allSettled(slots.map(async slot => this.#registerNow(slot, options)))
    const granted = results.flatMap(r => r.status === 'fulfilled' ? [r.value] : [])
    if (granted.length > 0) return Math.min(...granted)
    checkSignal(options.signal)
    throw failureOf(results.map(r => (r as PromiseRejectedResult).reason))
  }

  /** Stop refreshing `namespace` and UNREGISTER it everywhere */
  async unregister (namespace: string, options: AbortOptions): Promise<void> {
    this.#wanted.delete(namespace)
    const slots = this.#slots.list(namespace)
    for (const slot of slots) slot.task?.remove()
    const signal = anySignal([options.signal, this.#run?.signal, AbortSignal.timeout(this.#context.settings.timeout)])
    try {
      await Promise.all(this.#context.settings.points.map(async point => this.#sendUnregister(point, namespace, signal)))
    } finally {
      signal.clear()
    }
    this.#slots.clear(namespace)
    const now = this.#context.clock.now()
    for (const { state } of slots) {
      if (state != null) this.#context.emit('registration:update', { ...state, status: 'unregistered', updatedAt: now })
    }
    checkSignal(options.signal)
  }

  /** New addresses (a relay reservation, say): register again at once, everywhere */
  addressesChanged (): void {
    if (this.#run == null || !this.#record.changed() || !this.#record.hasAddresses()) return
    this.#context.log('our addresses changed, registering again')
    this.#health.stopReaching()
    this.#everywhereNow()
  }

  /** The connection to `point` opened again: it may have restarted with an empty store, so register there now */
  reconnected (point: Point): void {
    if (this.#run == null || !this.#record.hasAddresses() || this.#isLeaving()) return
    for (const namespace of this.#wanted.keys()) this.#soon(this.#slots.get(point, namespace))
  }

  isRegistered (point: Point, namespace: string): boolean {
    return this.#slots.find(point, namespace)?.state?.status === 'registered'
  }

  /**
   * A complete walk from scratch no longer returns our own record at a point
   * that returned it before: the point has forgotten us (a restart with an
   * empty store, a lost database). Register there again now instead of at
   * the next refresh.
   */
  forgotten (point: Point, namespace: string): boolean {
    if (!this.#wanted.has(namespace) || this.#isLeaving()) return false
    this.#context.log('%p no longer holds our registration in %s; registering again', point.id, namespace)
    this.#soon(this.#slots.get(point, namespace))
    return true
  }

  /** UNREGISTER every namespace at every point, once per stop, all within `unregisterTimeout` */
  async leaveEverywhere (): Promise<void> {
    this.#unregistering ??= (async () => {
      for (const slot of this.#slots.list()) slot.task?.remove()
      const attempted = this.#attempted()
      if (attempted.length === 0) return
      const signal = AbortSignal.timeout(this.#context.settings.unregisterTimeout)
      await Promise.all(attempted.map(async slot => {
        // an UNREGISTER that overtook a REGISTER on its way would leave us registered
        if (slot.inflight != null) await raceSignal(slot.inflight, signal).catch(() => {})
        await this.#sendUnregister(slot.point, slot.namespace, signal)
      }))
      for (const slot of attempted) slot.state = undefined
    })()
    await this.#unregistering
  }

  /**
   * The page may be about to go (`beforeunload`). Chromium tears a page down
   * a few milliseconds after `pagehide`, too soon for a stream to open, but
   * up to a hundred after `beforeunload`: so UNREGISTER now, at once (no
   * waiting for REGISTERs on their way), and register no more. If the page is
   * still here `LEAVE_GRACE` later (the unload was cancelled) or comes back
   * from the bfcache, register again.
   */
  leave (): void {
    if (this.#run == null || this.#isLeaving()) return
    const signal = AbortSignal.timeout(this.#context.settings.unregisterTimeout)
    const sent = Promise.all(this.#attempted().map(async slot => this.#sendUnregister(slot.point, slot.namespace, signal))).then(() => {})
    this.#leaving = { sent, timer: this.#context.clock.setTimeout(() => { this.comeBack() }, LEAVE_GRACE) }
  }

  /** Still here after `beforeunload`: register again everywhere */
  comeBack (): void {
    if (this.#leaving == null) return
    this.#endLeave()
    if (this.#run == null || this.#unregistering != null) return
    this.#context.log('the page stayed after all; registering again')
    this.#everywhereNow()
  }

  /** The page is going away for good: unregister now (unless `beforeunload` already did), because nothing will run later */
  exit (): void {
    if (this.#run == null) return
    if (this.#leaving != null) {
      this.#unregistering ??= this.#leaving.sent
      return
    }
    void this.leaveEverywhere()
  }

  #endLeave (): void {
    if (this.#leaving != null) this.#context.clock.clearTimeout(this.#leaving.timer)
    this.#leaving = undefined
  }

  /** Whether leaving has begun (`beforeunload`, page exit, stop): nothing may register then */
  #isLeaving (): boolean {
    return this.#unregistering != null || this.#leaving != null
  }

  /** Registrations a REGISTER may have reached */
  #attempted (): Slot[] {
    return this.#slots.list().filter(slot => slot.state != null && slot.state.status !== 'waiting-for-addresses')
  }

  #everywhereNow (): void {
    for (const namespace of this.#wanted.keys()) {
      for (const point of this.#context.settings.points) this.#slots.find(point, namespace)?.task?.runNow()
    }
  }

  /** Make sure every point has a refresh task for `namespace`, first due at `at` */
  #keep (namespace: string, at: number): void {
    const run = this.#run
    if (run == null) return
    for (const point of this.#context.settings.points) {
      const slot = this.#slots.get(point, namespace)
      slot.task ??= run.scheduler.add(`register ${point.key} ${namespace}`, async signal => this.#refresh(slot, signal), { whileHidden: true, at })
    }
  }

  /** The scheduled run: register, and say when to run again */
  async #refresh (slot: Slot, shutdown: AbortSignal): Promise<number | undefined> {
    const signal = anySignal([shutdown, AbortSignal.timeout(this.#context.settings.timeout)])
    try {
      return (await this.#registerAt(slot, signal))?.refreshAt
    } catch (err) {
      return this.#failed(slot, err)
    } finally {
      signal.clear()
    }
  }

  /** An attempt a caller waits for; it also sets when the next scheduled one runs */
  async #registerNow (slot: Slot, options: RegisterOptions): Promise<number> {
    const signal = anySignal([options.signal, this.#run?.signal, AbortSignal.timeout(this.#context.settings.timeout)])
    try {
      const accepted = await this.#registerAt(slot, signal)
      if (accepted == null) throw new NotStartedError('Unregistered while registering')
      slot.task?.schedule(accepted.refreshAt)
      return accepted.granted
    } catch (err) {
      // a caller who gave up says nothing about the point
      const retryAt = options.signal?.aborted === true ? undefined : this.#failed(slot, err)
      slot.task?.schedule(retryAt ?? Infinity)
      throw err
    } finally {
      signal.clear()
    }
  }

  /** Register at once, unless a REGISTER is already on its way */
  #soon (slot: Slot): void {
    if (slot.inflight == null) slot.task?.runNow()
  }

  async #registerAt (slot: Slot, signal: AbortSignal): Promise<Accepted | undefined> {
    const attempt = this.#registerOnce(slot, signal)
    slot.inflight = attempt
    try {
      return await attempt
    } finally {
      if (slot.inflight === attempt) slot.inflight = undefined
    }
  }

  /** One REGISTER; undefined when the namespace was unregistered or the service stopped meanwhile */
  async #registerOnce (slot: Slot, signal: AbortSignal): Promise<Accepted | undefined> {
    const { point, namespace } = slot
    const { clock, log } = this.#context
    const ttl = this.#wanted.get(namespace)
    // once leaving (page exit, stop) has begun, a new REGISTER would undo it
    if (ttl == null || this.#run == null || this.#isLeaving()) return undefined
    if (!this.#record.hasAddresses()) throw new NoAddressesError()

    this.#setState(slot, { status: 'registering', updatedAt: clock.now() })
    const record = await this.#record.seal(signal)
    signal.throwIfAborted()

    const requested = this.#refusesTtl.has(point) ? DEFAULT_TTL : ttl
    let granted: number
    try {
      granted = await this.#requests.register(point.addresses, namespace, record, { ttl: requested, signal })
    } catch (err: any) {
      if (err?.name !== 'InvalidTTLError' || requested === DEFAULT_TTL) throw err
      // rust and nim points refuse anything under 2 h; 7200 s is the one TTL every point admits
      log('%p refused a TTL of %ds, asking for %ds', point.id, requested, DEFAULT_TTL)
      this.#refusesTtl.add(point)
      granted = await this.#requests.register(point.addresses, namespace, record, { ttl: DEFAULT_TTL, signal })
    }
    this.#health.answered(point)

    // stop and page exit wait for this REGISTER before they unregister
    if (this.#run == null || this.#unregistering != null) return undefined
    if (!this.#wanted.has(namespace) || this.#leaving != null) {
      // unregistered (or left) while this REGISTER was on its way: it may have landed after the UNREGISTER
      void this.#sendUnregister(point, namespace, this.#run.signal)
      return undefined
    }

    const now = clock.now()
    const refreshAt = now + Math.round(this.#refreshDelay(slot, granted))
    this.#waitingLogged = false
    this.#setState(slot, { status: 'registered', ttl: granted, expiresAt: now + granted * 1000, refreshAt, updatedAt: now })
    return { granted, refreshAt }
  }

  /**
   * Milliseconds until the refresh of a registration the point granted for
   * `granted` seconds. A grant too short to refresh in time (a point answering
   * `ttl: 0`) is paced like a failure, backing off, so that it cannot make us
   * hammer the point.
   */
  #refreshDelay (slot: Slot, granted: number): number {
    const { backoff, refreshRatio } = this.#context.settings
    const delay = jitter(granted * 1000 * refreshRatio)
    if (delay >= backoff.initial) {
      slot.failures = 0
      return delay
    }
    this.#context.log.error('%p granted %ds in %s, too short to refresh in time; backing off', slot.point.id, granted, slot.namespace)
    return Math.max(delay, backoff.delay(++slot.failures))
  }

  /** Record a failed attempt; resolves when to try again, or undefined to wait for something else */
  #failed (slot: Slot, err: any): number | undefined {
    if (this.#run == null || !this.#wanted.has(slot.namespace)) return undefined
    const { clock, log, settings } = this.#context
    const now = clock.now()
    if (err?.name === 'NoAddressesError') {
      if (!this.#waitingLogged) {
        this.#waitingLogged = true
        log('no address to advertise yet; registering as soon as there is one')
      }
      this.#setState(slot, { status: 'waiting-for-addresses', updatedAt: now })
      this.#health.reach(() => this.#run != null && !this.#record.hasAddresses() && this.#wanted.size > 0)
      return undefined
    }
    const delay = Math.round(settings.backoff.delay(++slot.failures))
    log.error('registering in %s at %p failed, retrying in %dms - %e', slot.namespace, slot.point.id, delay, err)
    this.#setState(slot, { status: 'error', ...describeFailure(err), retryAt: now + delay, updatedAt: now })
    this.#health.failed(slot.point, err, now + delay)
    return now + delay
  }

  #setState (slot: Slot, update: RegistrationUpdate): void {
    if (this.#run == null) return
    slot.state = nextState(slot.state, slot.point.id, slot.namespace, update)
    this.#context.emit('registration:update', { ...slot.state })
  }

  async #sendUnregister (point: Point, namespace: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.#requests.unregister(point.addresses, namespace, { signal })
    } catch (err) {
      this.#context.log.error('unregistering from %s at %p failed - %e', namespace, point.id, err)
    }
  }
}
