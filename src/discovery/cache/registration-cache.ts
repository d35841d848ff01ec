/**
 * Where discovered registrations and our own record's sequence number
 * outlive the page. Everything stored is plain data that survives a
 * structured clone (strings, numbers, bytes); peer ids, multiaddrs and
 * records are rebuilt, and records re-verified, when read back.
 */
import type { AbortOptions, PeerId } from '@libp2p/interface'

/** One peer in one namespace, as cached */
export interface CachedRegistration {
  /** The registered peer, as a string */
  peerId: string
  /** The signed peer record envelope, verified again on load */
  signedPeerRecord: Uint8Array
  /** Milliseconds since the epoch after which no point holds the registration any more */
  expiresAt: number
  /** `[point peer id, expiresAt]` for every point that returned it */
  points: Array<[string, number]>
}

/** The cache of one libp2p node. Open one per peer id, so two nodes on one origin never share one */
export interface RegistrationCache {
  /** What was saved for `namespace`, possibly expired */
  loadRegistrations(namespace: string, options?: AbortOptions): Promise<CachedRegistration[]>
  /** Replace what is saved for `namespace`; an empty list removes it */
  saveRegistrations(namespace: string, registrations: CachedRegistration[], options?: AbortOptions): Promise<void>
  /** Forget `namespace`, or every namespace when it is undefined (our sequence number stays) */
  clearRegistrations(namespace?: string, options?: AbortOptions): Promise<void>
  /** The highest sequence number our own records have used */
  loadSeq(options?: AbortOptions): Promise<bigint | undefined>
  saveSeq(seq: bigint, options?: AbortOptions): Promise<void>
}

/** Opens the cache of the node with peer id `self` */
export type RegistrationCacheFactory = (self: PeerId) => RegistrationCache

/** Copy bytes that may be a view into a larger buffer (a whole response), so only the record itself is kept */
export function ownBytes (bytes: Uint8Array): Uint8Array {
  return bytes.slice()
}

/** A deep copy of cached registrations, so callers and the store never share mutable data */
export function copyRegistrations (registrations: CachedRegistration[]): CachedRegistration[] {
  return registrations.map(r => ({
    peerId: r.peerId,
    signedPeerRecord: ownBytes(r.signedPeerRecord),
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
    typeof entry.expiresAt === 'number' &&
    Array.isArray(entry.points) &&
    entry.points.every((p: unknown) => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'number')
  )
}
