import { InvalidParametersError } from '@libp2p/interface'
import { memoryStore } from './memory-store.ts'
import type { RegistrationStore } from './registration-store.ts'

/** A store and a way to let go of whatever connection it holds */
export interface OpenedStore {
  store: RegistrationStore
  close(): Promise<void>
}

/** Open the store a URL names: `memory:` (the default) */
export async function openStore (url = 'memory:'): Promise<OpenedStore> {
  const { protocol } = new URL(url)
  if (protocol === 'memory:') {
    return { store: memoryStore(), close: async () => {} }
  }
  throw new InvalidParametersError(`Unsupported store "${url}": use memory:`)
}
