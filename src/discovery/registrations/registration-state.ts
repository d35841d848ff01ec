import type { RegistrationState } from '../api.ts'
import type { PeerId } from '@libp2p/interface'

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
