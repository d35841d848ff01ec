import { anySignal } from 'any-signal'
import { describeFailure } from '../errors.ts'
import type { PointState } from '../api.ts'
import type { Context, Point, Run } from '../context.ts'
import type { Task } from '../timing/scheduler.ts'
import type { PeerId } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'

/**
 * Errors that are the point answering: it is reachable and working, even if
 * it refused what we asked. `E_INTERNAL_ERROR` and `E_UNAVAILABLE` are the
 * point failing, so they do not count.
 */
const ANSWERS = new Set([
  'InvalidNamespaceError', 'InvalidSignedPeerRecordError', 'InvalidTTLError', 'InvalidCookieError', 'NotAuthorizedError'
])

/** Whether `err`, from a request to a point, says the point is failing (rather than refusing, or us lacking an address) */
export function isPointFailure (err: any): boolean {
  const name = err?.name
  return !ANSWERS.has(name) && name !== 'NoAddressesError'
}

/** One point's health: its state, and the dialing that goes on while we wait for an address */
interface PointRecord {
  point: Point
  state: PointState
  /** Its connection closed and has not opened again */
  disconnected: boolean
  reach?: Task
  /** Dials in a row while reaching */
  dials: number
}

/**
 * How each rendezvous point is doing (`getPoints()`, `point:update`), told by
 * every request's outcome and by libp2p's connection events; and, while we
 * have no address to register, dialing the points so that a relay
 * reservation at one of them can give us one.
 */
export class PointHealth {
  readonly #context: Context
  readonly #connectionManager: ConnectionManager
  /** In the order configured; empty outside a run */
  readonly #records: PointRecord[] = []
  #run?: Run

  constructor (context: Context, connectionManager: ConnectionManager) {
    this.#context = context
    this.#connectionManager = connectionManager
  }

  /** Every point `connecting` */
  start (run: Run): void {
    this.#run = run
    const now = this.#context.clock.now()
    for (const point of this.#context.settings.points) {
      this.#records.push({ point, state: { point: point.id, status: 'connecting', updatedAt: now }, disconnected: false, dials: 0 })
    }
  }

  stop (): void {
    this.#run = undefined
    this.#records.length = 0
  }

  /** Every state, in the order of the configured points */
  all (): PointState[] {
    return this.#records.map(record => ({ ...record.state }))
  }

  /** The point answered a request (even if it refused it) */
  answered (point: Point): void {
    const record = this.#record(point.id)
    if (record == null) return
    const now = this.#context.clock.now()
    record.state.lastSuccessAt = now
    // an answer read (and verified) after the connection closed says nothing about now; a new connection will
    if (record.state.status !== 'ok' && !record.disconnected) this.#set(record, { status: 'ok', lastSuccessAt: now, updatedAt: now })
  }

  /**
   * A request to the point failed; `retryAt` is when the one that failed runs
   * again. One that is not retried (a caller's) leaves a retry still to come in place.
   */
  failed (point: Point, err: any, retryAt?: number): void {
    if (!isPointFailure(err)) {
      this.answered(point)
      return
    }
    const record = this.#record(point.id)
    if (record == null) return
    const { state } = record
    const now = this.#context.clock.now()
    retryAt ??= state.retryAt != null && state.retryAt > now ? state.retryAt : undefined
    const { error, errorName } = describeFailure(err)
    if (state.status === 'error' && state.error === error && state.errorName === errorName && state.retryAt === retryAt) return
    this.#set(record, { status: 'error', error, errorName, retryAt, lastSuccessAt: state.lastSuccessAt, updatedAt: now })
  }

  /** The connection to `peer` closed: a working point is no longer known to be reachable */
  disconnected (peer: PeerId): void {
    const record = this.#record(peer)
    if (record == null) return
    record.disconnected = true
    if (record.state.status === 'ok') {
      this.#set(record, { status: 'connecting', lastSuccessAt: record.state.lastSuccessAt, updatedAt: this.#context.clock.now() })
    }
  }

  /** A connection to `peer` opened; resolves the point when it had closed before, since the point may have restarted */
  connected (peer: PeerId): Point | undefined {
    const record = this.#record(peer)
    if (record == null) return undefined
    if (record.state.status === 'connecting') {
      this.#set(record, { status: 'ok', lastSuccessAt: record.state.lastSuccessAt, updatedAt: this.#context.clock.now() })
    }
    if (!record.disconnected) return undefined
    record.disconnected = false
    return record.point
  }

  /**
   * Without an address there is nothing to register, and in a browser the
   * address usually comes from a relay reservation at a point, which needs a
   * connection to it. Requests that would make one wait for the address, and
   * polls stop while the page is hidden; so dial the points (best effort,
   * backing off) for as long as `needed()` says.
   */
  reach (needed: () => boolean): void {
    const run = this.#run
    if (run == null) return
    for (const record of this.#records) {
      if (record.reach == null) {
        record.reach = run.scheduler.add(`reach ${record.point.key}`, async signal => this.#dial(record, needed, signal), { whileHidden: true })
      } else if (record.reach.deadline === Infinity) {
        record.reach.runNow()
      }
    }
  }

  /** An address appeared: dial no more */
  stopReaching (): void {
    for (const record of this.#records) {
      record.reach?.remove()
      record.reach = undefined
      record.dials = 0
    }
  }

  /** One dial; resolves when to look again */
  async #dial (record: PointRecord, needed: () => boolean, shutdown: AbortSignal): Promise<number | undefined> {
    if (this.#run == null || !needed()) return undefined
    const { point } = record
    const signal = anySignal([shutdown, AbortSignal.timeout(this.#context.settings.timeout)])
    let failure: unknown
    try {
      await this.#connectionManager.openConnection(point.addresses, { signal })
      this.answered(point)
    } catch (err) {
      failure = err
    } finally {
      signal.clear()
    }
    if (this.#run == null) return undefined
    // connected or not, look again later, less and less often: the reservation may be slow to come
    const at = this.#context.clock.now() + Math.round(this.#context.settings.backoff.delay(++record.dials))
    if (failure != null) {
      this.#context.log.error('dialling %p while waiting for an address failed - %e', point.id, failure)
      this.failed(point, failure, at)
    }
    return at
  }

  #record (peer: PeerId): PointRecord | undefined {
    return this.#records.find(record => record.point.id.equals(peer))
  }

  #set (record: PointRecord, state: Omit<PointState, 'point'>): void {
    record.state = { point: record.point.id, ...state }
    this.#context.emit('point:update', { ...record.state })
  }
}
