/**
 * A quick copy, in `localStorage`, of the few cached registrations of a
 * namespace that expire last: the one storage a page can read without
 * waiting for a task of its own, so that a warm start can show a peer while
 * libp2p is still starting. IndexedDB stays the store of record; this is a
 * best-effort copy next to it: where `localStorage` is missing or refuses a
 * write, there simply is none, and a read that fails says why and leaves
 * the peers to the full read.
 */
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { FIRST_LOOK } from '../constants.ts'
import { sanitizeRegistrations } from './registration-cache.ts'
import type { CachedRegistration } from '../api.ts'

function storage (): Storage | undefined {
  try {
    return globalThis.localStorage ?? undefined
  } catch {
    // a page whose storage is off throws on mere access
    return undefined
  }
}

function key (prefix: string, namespace: string): string {
  return `${prefix}/${namespace}`
}

export function saveFirstLook (prefix: string, namespace: string, registrations: CachedRegistration[]): void {
  try {
    const first = [...registrations].sort((a, b) => b.expiresAt - a.expiresAt).slice(0, FIRST_LOOK)
    if (first.length === 0) {
      storage()?.removeItem(key(prefix, namespace))
      return
    }
    storage()?.setItem(key(prefix, namespace), JSON.stringify(first.map(r => ({ ...r, signedPeerRecord: toString(r.signedPeerRecord, 'base64pad') }))))
  } catch {
    // full, or refused: the first look is a nicety
  }
}

/** Throws what `localStorage` throws (a `SecurityError` where storage is off), or a `SyntaxError` or decoding error for a copy that is not ours */
export function peekFirstLook (prefix: string, namespace: string): CachedRegistration[] {
  const saved = JSON.parse(globalThis.localStorage?.getItem(key(prefix, namespace)) ?? '[]')
  return sanitizeRegistrations(Array.isArray(saved) ? saved.map(r => ({ ...r, signedPeerRecord: fromString(r?.signedPeerRecord, 'base64pad') })) : [])
}

/** Forget the copy of `namespace`, or of every namespace under `prefix` */
export function clearFirstLook (prefix: string, namespace?: string): void {
  try {
    const store = storage()
    if (store == null) return
    const keys = namespace != null ? [key(prefix, namespace)] : Array.from({ length: store.length }, (_, i) => store.key(i)).filter(k => k?.startsWith(`${prefix}/`) === true)
    for (const k of keys) store.removeItem(k as string)
  } catch {
    // as above
  }
}
