import { copyRegistrations } from './registration-cache.ts'
import type { CachedRegistration, RegistrationCache, RegistrationCacheFactory } from '../api.ts'

class MemoryCache implements RegistrationCache {
  readonly #namespaces = new Map<string, CachedRegistration[]>()
  #seq?: bigint

  async loadRegistrations (namespace: string): Promise<CachedRegistration[]> {
    return copyRegistrations(this.#namespaces.get(namespace) ?? [])
  }

  async saveRegistrations (namespace: string, registrations: CachedRegistration[]): Promise<void> {
    if (registrations.length === 0) {
      this.#namespaces.delete(namespace)
    } else {
      this.#namespaces.set(namespace, copyRegistrations(registrations))
    }
  }

  peekRegistrations (namespace: string): CachedRegistration[] {
    return copyRegistrations(this.#namespaces.get(namespace) ?? [])
  }

  async clearRegistrations (namespace?: string): Promise<void> {
    if (namespace == null) {
      this.#namespaces.clear()
    } else {
      this.#namespaces.delete(namespace)
    }
  }

  async loadSeq (): Promise<bigint | undefined> {
    return this.#seq
  }

  async saveSeq (seq: bigint): Promise<void> {
    this.#seq = seq
  }
}

/**
 * A cache in this process's memory, one per peer id. Pass the same factory
 * to a node made again with the same key and it finds what the earlier one
 * saved, as a reloaded page finds IndexedDB.
 */
export function memoryCache (): RegistrationCacheFactory {
  const caches = new Map<string, RegistrationCache>()
  return (self) => {
    const key = self.toString()
    let cache = caches.get(key)
    if (cache == null) {
      cache = new MemoryCache()
      caches.set(key, cache)
    }
    return cache
  }
}
