import type { PeerId } from '@libp2p/interface'

/**
 * - `connecting`: nothing has been heard from the point since start-up, or
 *   since the connection to it closed; the next request will tell
 * - `ok`: the point is reachable: the last request to it got an answer, or a
 *   connection to it opened since it was `connecting`
 * - `error`: the last request failed (unreachable, timed out, no or a garbled
 *   answer, or the point said it is unavailable); it is tried again at `retryAt`
 */
export type PointStatus = 'connecting' | 'ok' | 'error'

/** How a rendezvous point is doing, as far as our requests to it can tell */
export interface PointState {
  /** The rendezvous point */
  point: PeerId
  status: PointStatus
  /** What went wrong (when `error`) */
  error?: string
  /** The error's name, e.g. `TimeoutError` (when `error`) */
  errorName?: string
  /** Milliseconds since the epoch of the next attempt at the point (when `error` and one is scheduled) */
  retryAt?: number
  /** Milliseconds since the epoch of the last answer from the point; kept current without an event of its own */
  lastSuccessAt?: number
  /** Milliseconds since the epoch of the last change of status, error or retry time */
  updatedAt: number
}

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

function key (point: PeerId): string {
  return point.toString()
}

/** The state of every rendezvous point. Pure bookkeeping: each method resolves the new state when it changed, else undefined */
export class PointBook {
  private readonly states = new Map<string, PointState>()

  /** Start over: every point `connecting` */
  reset (points: PeerId[], now: number): void {
    this.states.clear()
    for (const point of points) this.states.set(key(point), { point, status: 'connecting', updatedAt: now })
  }

  clear (): void {
    this.states.clear()
  }

  get (point: PeerId): PointState | undefined {
    const state = this.states.get(key(point))
    return state == null ? undefined : { ...state }
  }

  /** The point answered */
  success (point: PeerId, now: number): PointState | undefined {
    const state = this.states.get(key(point))
    if (state == null) return undefined
    state.lastSuccessAt = now
    if (state.status === 'ok') return undefined
    return this.set(point, { status: 'ok', lastSuccessAt: now, updatedAt: now })
  }

  /**
   * A request failed; `retryAt` is when the one that failed runs again. One
   * that is not retried (a caller's) leaves a retry still to come in place.
   */
  failure (point: PeerId, err: any, now: number, retryAt?: number): PointState | undefined {
    const state = this.states.get(key(point))
    if (state == null) return undefined
    retryAt ??= state.retryAt != null && state.retryAt > now ? state.retryAt : undefined
    const error = String(err?.message ?? err)
    const errorName = err?.name
    if (state.status === 'error' && state.error === error && state.errorName === errorName && state.retryAt === retryAt) return undefined
    return this.set(point, { status: 'error', error, errorName, retryAt, lastSuccessAt: state.lastSuccessAt, updatedAt: now })
  }

  /** The connection to the point closed: a working point is no longer known to be reachable */
  disconnected (point: PeerId, now: number): PointState | undefined {
    const state = this.states.get(key(point))
    if (state?.status !== 'ok') return undefined
    return this.set(point, { status: 'connecting', lastSuccessAt: state.lastSuccessAt, updatedAt: now })
  }

  /** A connection to the point opened: one that was waiting to hear from it has */
  connected (point: PeerId, now: number): PointState | undefined {
    const state = this.states.get(key(point))
    if (state?.status !== 'connecting') return undefined
    return this.set(point, { status: 'ok', lastSuccessAt: state.lastSuccessAt, updatedAt: now })
  }

  /** Every state, in the order of the configured points */
  all (): PointState[] {
    return [...this.states.values()].map(state => ({ ...state }))
  }

  private set (point: PeerId, state: Omit<PointState, 'point'>): PointState {
    const next: PointState = { point, ...state }
    this.states.set(key(point), next)
    return { ...next }
  }
}
