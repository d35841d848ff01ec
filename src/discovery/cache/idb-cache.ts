import { TimeoutError } from '@libp2p/interface'
import { createStore, del, delMany, get, keys, set } from 'idb-keyval'
import { raceSignal } from 'race-signal'
import { DEFAULT_DB_PREFIX, DEFAULT_DB_TIMEOUT } from '../constants.ts'
import { clearFirstLook, peekFirstLook, saveFirstLook } from './first-look.ts'
import { copyRegistrations, sanitizeRegistrations } from './registration-cache.ts'
import type { CachedRegistration, RegistrationCache, RegistrationCacheFactory } from '../api.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { UseStore } from 'idb-keyval'

export interface IdbCacheInit {
  /**
   * Start of the database name; the node's peer id is appended, so nodes on
   * one origin each get their own database (idb-keyval wants one store per
   * database anyway).
   * @default 'libp2p-rendezvous'
   */
  dbPrefix?: string
  /**
   * Milliseconds one IndexedDB operation may take. Opening a database whose
   * upgrade is blocked by another tab never completes on its own; after this
   * the operation fails and the service falls back to memory.
   * @default 3000
   */
  timeout?: number
}

const STORE_NAME = 'registrations'
const SEQ_KEY = 'seq'
const NAMESPACE_KEY = 'ns'

function namespaceKey (namespace: string): IDBValidKey {
  return [NAMESPACE_KEY, namespace]
}

class IdbCache implements RegistrationCache {
  readonly #dbName: string
  readonly #timeout: number
  #store?: UseStore

  constructor (dbName: string, timeout: number) {
    this.#dbName = dbName
    this.#timeout = timeout
  }

  async loadRegistrations (namespace: string, options?: AbortOptions): Promise<CachedRegistration[]> {
    return sanitizeRegistrations(await this.#run(async store => get(namespaceKey(namespace), store), options))
  }

  async saveRegistrations (namespace: string, registrations: CachedRegistration[], options?: AbortOptions): Promise<void> {
    await this.#run(async store => {
      if (registrations.length === 0) {
        await del(namespaceKey(namespace), store)
      } else {
        // copies: plain objects and bytes of their own, never views into a response buffer
        await set(namespaceKey(namespace), copyRegistrations(registrations), store)
      }
    }, options)
    saveFirstLook(this.#dbName, namespace, registrations)
  }

  peekRegistrations (namespace: string): CachedRegistration[] {
    return peekFirstLook(this.#dbName, namespace)
  }

  async clearRegistrations (namespace?: string, options?: AbortOptions): Promise<void> {
    clearFirstLook(this.#dbName, namespace)
    await this.#run(async store => {
      if (namespace != null) {
        await del(namespaceKey(namespace), store)
        return
      }
      const all = await keys(store)
      await delMany(all.filter(key => Array.isArray(key) && key[0] === NAMESPACE_KEY), store)
    }, options)
  }

  async loadSeq (options?: AbortOptions): Promise<bigint | undefined> {
    const value = await this.#run(async store => get(SEQ_KEY, store), options)
    // kept as a decimal string: any structured clone keeps strings, not every one keeps bigints
    return typeof value === 'string' && /^\d+$/.test(value) ? BigInt(value) : undefined
  }

  async saveSeq (seq: bigint, options?: AbortOptions): Promise<void> {
    await this.#run(async store => set(SEQ_KEY, seq.toString(), store), options)
  }

  /** One operation, bounded in time, on a database opened on first use */
  async #run<T> (operation: (store: UseStore) => Promise<T>, options?: AbortOptions): Promise<T> {
    let timer: ReturnType<typeof globalThis.setTimeout> | undefined
    const timeout = new Promise<never>((resolve, reject) => {
      timer = globalThis.setTimeout(() => {
        reject(new TimeoutError(`IndexedDB ${this.#dbName} did not answer within ${this.#timeout} ms`))
      }, this.#timeout)
    })
    try {
      this.#store ??= createStore(this.#dbName, STORE_NAME)
      return await raceSignal(Promise.race([operation(this.#store), timeout]), options?.signal)
    } catch (err) {
      // the service leaves a failing cache for memory: a copy of it that no later write or clear would reach goes too
      if (options?.signal?.aborted !== true) clearFirstLook(this.#dbName)
      throw err
    } finally {
      globalThis.clearTimeout(timer)
    }
  }
}

/**
 * A cache in IndexedDB (through idb-keyval), in a database of its own per
 * peer id, with a quick copy of a few registrations per namespace in
 * `localStorage` for a warm start's first look. IndexedDB is opened on first
 * use; where it is missing or failing, operations fail and the discovery
 * service carries on in memory.
 */
export function idbCache (init: IdbCacheInit = {}): RegistrationCacheFactory {
  const prefix = init.dbPrefix ?? DEFAULT_DB_PREFIX
  const timeout = init.timeout ?? DEFAULT_DB_TIMEOUT
  return (self) => new IdbCache(`${prefix}/${self.toString()}`, timeout)
}
