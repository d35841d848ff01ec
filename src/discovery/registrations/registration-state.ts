import type { PeerId } from '@libp2p/interface'

/**
 * - `waiting-for-addresses`: we have no address to put in a record, so nothing was sent;
 *   registration happens as soon as one appears
 * - `registering`: a REGISTER is on its way (an earlier registration may still be in force)
 * - `registered`: the point accepted our record
 * - `error`: the last attempt failed; it is retried at `retryAt`
 */
export type RegistrationStatus = 'waiting-for-addresses' | 'registering' | 'registered' | 'error'

/** Our own registration in one namespace at one point */
export interface RegistrationState {
  namespace: string
  /** The rendezvous point */
  point: PeerId
  status: RegistrationStatus
  /** Seconds the point granted the last time it accepted us */
  ttl?: number
  /** Milliseconds since the epoch when the last accepted registration lapses */
  expiresAt?: number
  /** Milliseconds since the epoch of the next scheduled refresh (when `registered`) */
  refreshAt?: number
  /** Milliseconds since the epoch of the next retry (when `error`) */
  retryAt?: number
  /** What went wrong (when `error`) */
  error?: string
  /** The error's name, e.g. `InvalidTTLError` (when `error`) */
  errorName?: string
  /** Milliseconds since the epoch of this change */
  updatedAt: number
}

export type RegistrationUpdate = Partial<Omit<RegistrationState, 'namespace' | 'point'>> & Pick<RegistrationState, 'status' | 'updatedAt'>

/**
 * The state after `update`. Fields of the last accepted registration (`ttl`,
 * `expiresAt`) carry over, because it stays in force at the point while we
 * refresh, retry or wait; status-specific fields do not.
 */
export function nextState (previous: RegistrationState | undefined, point: PeerId, namespace: string, update: RegistrationUpdate): RegistrationState {
  const state: RegistrationState = {
    namespace,
    point,
    status: update.status,
    updatedAt: update.updatedAt,
    ttl: update.ttl ?? previous?.ttl,
    expiresAt: update.expiresAt ?? previous?.expiresAt,
    refreshAt: update.refreshAt,
    retryAt: update.retryAt,
    error: update.error,
    errorName: update.errorName
  }
  if (state.expiresAt != null && state.expiresAt <= state.updatedAt) {
    // lapsed: there is nothing in force to describe any more
    state.ttl = undefined
    state.expiresAt = undefined
  }
  return state
}
