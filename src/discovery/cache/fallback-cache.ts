import { memoryCache } from './memory-cache.ts'
import type { CachedRegistration, RegistrationCache } from '../api.ts'
import type { AbortOptions, PeerId } from '@libp2p/interface'

/**
 * `primary` until its first failure (private mode, quota, a blocked upgrade,
 * no IndexedDB at all), then memory for good, so the service never stops
 * working because of its cache. `onFallback` is called once, with the failure.
 */
export function withMemoryFallback (primary: RegistrationCache, self: PeerId, onFallback: (err: unknown) => void): RegistrationCache {
  let active = primary
  let fallback: RegistrationCache | undefined

  async function use<T> (operation: (cache: RegistrationCache) => Promise<T>, options?: AbortOptions): Promise<T> {
    if (active === primary) {
      try {
        return await operation(primary)
      } catch (err: any) {
        // the caller giving up is not the cache failing
        if (options?.signal?.aborted === true) throw err
        if (active === primary) {
          fallback ??= memoryCache()(self)
          active = fallback
          onFallback(err)
        }
      }
    }
    return operation(active)
  }

  return {
    loadRegistrations: async (namespace: string, options?: AbortOptions): Promise<CachedRegistration[]> =>
      use(async cache => cache.loadRegistrations(namespace, options), options),
    saveRegistrations: async (namespace: string, registrations: CachedRegistration[], options?: AbortOptions): Promise<void> =>
      use(async cache => cache.saveRegistrations(namespace, registrations, options), options),
    peekRegistrations: (namespace: string): CachedRegistration[] => active.peekRegistrations?.(namespace) ?? [],
    clearRegistrations: async (namespace?: string, options?: AbortOptions): Promise<void> =>
      use(async cache => cache.clearRegistrations(namespace, options), options),
    loadSeq: async (options?: AbortOptions): Promise<bigint | undefined> =>
      use(async cache => cache.loadSeq(options), options),
    saveSeq: async (seq: bigint, options?: AbortOptions): Promise<void> =>
      use(async cache => cache.saveSeq(seq, options), options)
  }
}
