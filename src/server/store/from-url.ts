import { InvalidParametersError } from '@libp2p/interface'
import { memoryStore } from './memory-store.ts'
import { RedisRegistrationStore } from './redis-store.ts'
import type { RegistrationStore } from './registration-store.ts'

export { StoreConnectionError } from './redis-store.ts'

/** A store and a way to let go of whatever connection it holds */
export interface OpenedStore {
  /** Points that share it also share its `cookieSecret`, which a point picks up by itself */
  store: RegistrationStore
  close(): Promise<void>
}

export interface OpenStoreOptions {
  /** Milliseconds to reach a networked store before giving up. @default 5000 */
  connectTimeout?: number
}

/**
 * Open the store a URL names:
 * - `memory:` (the default): this process only
 * - `redis://[user:password@]host[:port][/db][?fleet=name]`, or `rediss://` for TLS: shared by every
 *   point of the fleet; rejects with `StoreConnectionError` when Redis cannot be reached
 */
export async function openStore (url = 'memory:', options: OpenStoreOptions = {}): Promise<OpenedStore> {
  if (storeKind(url) === 'memory') {
    return { store: memoryStore(), close: async () => {} }
  }
  const store = await RedisRegistrationStore.open({ url, connectTimeout: options.connectTimeout })
  return { store, close: async () => { await store.close() } }
}

/** Which store a URL names, without opening it; throws InvalidParametersError for one `openStore` cannot open */
export function storeKind (url: string): 'memory' | 'redis' {
  let protocol: string
  try {
    protocol = new URL(url).protocol
  } catch {
    // the URL may hold a password, so it is not repeated
    throw new InvalidParametersError('The store URL does not parse: use memory: or redis://host:port/db')
  }
  if (protocol === 'memory:') return 'memory'
  if (protocol === 'redis:' || protocol === 'rediss:') return 'redis'
  throw new InvalidParametersError(`Unsupported store "${protocol}": use memory: or redis://host:port/db`)
}
