/**
 * Where discovered registrations and our own record's sequence number
 * outlive the page. Everything stored is plain data that survives a
 * structured clone (strings, numbers, bytes); peer ids, multiaddrs and
 * records are rebuilt, and records re-verified, when read back.
 */
import type { CachedRegistration } from '../api.ts'

/**
 * A deep copy of cached registrations, so callers and the store never share
 * mutable data; a record that is a view into a larger buffer (a whole
 * response) is copied out of it, so only the record itself is kept
 */
export function copyRegistrations (registrations: CachedRegistration[]): CachedRegistration[] {
  return registrations.map(r => ({
    peerId: r.peerId,
    signedPeerRecord: r.signedPeerRecord.slice(),
    ...(r.certified === false ? { certified: false } : {}),
    expiresAt: r.expiresAt,
    points: r.points.map(([point, expiresAt]) => [point, expiresAt])
  }))
}

/**
 * Registrations from storage that may hold anything (an older format, another
 * program's data): keeps only well-formed entries. Records are verified later.
 */
export function sanitizeRegistrations (value: unknown): CachedRegistration[] {
  if (!Array.isArray(value)) return []
  return value.filter((entry): entry is CachedRegistration =>
    entry != null &&
    typeof entry.peerId === 'string' &&
    entry.signedPeerRecord instanceof Uint8Array &&
    (entry.certified === undefined || typeof entry.certified === 'boolean') &&
    typeof entry.expiresAt === 'number' &&
    Array.isArray(entry.points) &&
    entry.points.every((p: unknown) => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'number')
  )
}
