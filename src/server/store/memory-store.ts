import type { DiscoverOptions, DiscoverPage, NewRegistration, RegisterOutcome, RegistrationLimits, RegistrationStore, StoredRegistration } from './registration-store.ts'

interface Entry extends StoredRegistration {
  /** false once replaced or removed; the entry then waits in its lists until they are compacted */
  live: boolean
  /** Where the entry sits in the expiry heap while it is live */
  heapIndex: number
}

/**
 * Live entries ordered by expiry, soonest first. Each entry knows its place,
 * so one can leave from anywhere in O(log n), and dropping what has expired
 * costs O(log n) per expired entry and nothing for the live ones. Before it, a
 * full point swept every registration for each REGISTER it refused, which let
 * anyone make it do O(n) work per request.
 */
class ExpiryHeap {
  private readonly entries: Entry[] = []

  get size (): number {
    return this.entries.length
  }

  /** The entry that expires first */
  peek (): Entry | undefined {
    return this.entries[0]
  }

  push (entry: Entry): void {
    entry.heapIndex = this.entries.length
    this.entries.push(entry)
    this.up(entry.heapIndex)
  }

  remove (entry: Entry): void {
    const index = entry.heapIndex
    if (this.entries[index] !== entry) return
    entry.heapIndex = -1
    const last = this.entries.pop() as Entry
    if (index === this.entries.length) return
    this.entries[index] = last
    last.heapIndex = index
    this.down(index)
    this.up(last.heapIndex)
  }

  private up (index: number): void {
    const { entries } = this
    while (index > 0) {
      const parent = (index - 1) >>> 1
      if (entries[parent].expiresAt <= entries[index].expiresAt) return
      this.swap(index, parent)
      index = parent
    }
  }

  private down (index: number): void {
    const { entries } = this
    while (true) {
      const left = 2 * index + 1
      const right = left + 1
      let soonest = index
      if (left < entries.length && entries[left].expiresAt < entries[soonest].expiresAt) soonest = left
      if (right < entries.length && entries[right].expiresAt < entries[soonest].expiresAt) soonest = right
      if (soonest === index) return
      this.swap(index, soonest)
      index = soonest
    }
  }

  private swap (a: number, b: number): void {
    const { entries } = this
    const entry = entries[a]
    entries[a] = entries[b]
    entries[b] = entry
    entries[a].heapIndex = a
    entries[b].heapIndex = b
  }
}

/**
 * An append-only run of entries in cursor order. Removed entries are only
 * flagged, and the run is compacted once they are half of it, so removal is
 * amortised O(1) and a page after a cursor costs O(log n + page).
 */
class CursorLog {
  entries: Entry[] = []
  private dead = 0

  append (entry: Entry): void {
    this.entries.push(entry)
  }

  markDead (): void {
    this.dead++
    if (this.dead > 32 && this.dead * 2 > this.entries.length) {
      this.entries = this.entries.filter(e => e.live)
      this.dead = 0
    }
  }

  get size (): number {
    return this.entries.length - this.dead
  }

  /** Live, unexpired entries after `after`, at most `limit`, signed ones only if asked */
  page (after: bigint, limit: number, now: number, signedOnly = false): Entry[] {
    const { entries } = this
    let low = 0
    let high = entries.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (entries[mid].cursor <= after) low = mid + 1
      else high = mid
    }
    const found: Entry[] = []
    for (let i = low; i < entries.length && found.length < limit; i++) {
      const entry = entries[i]
      if (entry.live && entry.expiresAt > now && !(signedOnly && entry.unsigned === true)) found.push(entry)
    }
    return found
  }
}

/**
 * The embedded default store: everything in this process's memory, bounded
 * by the limits the point passes to `register`.
 */
export class MemoryRegistrationStore implements RegistrationStore {
  // microseconds of wall clock: a restarted point (same cookie secret) starts above every cursor its old cookies hold
  private lastCursor = BigInt(Date.now()) * 1000n
  private readonly byPeer = new Map<string, Map<string, Entry>>()
  private readonly byNamespace = new Map<string, CursorLog>()
  private readonly all = new CursorLog()
  private readonly expiries = new ExpiryHeap()

  async register (registration: NewRegistration, limits: RegistrationLimits, now: number): Promise<RegisterOutcome> {
    const namespaces = this.byPeer.get(registration.peerId)
    const current = namespaces?.get(registration.namespace)

    if (current != null && current.expiresAt > now && registration.seq < current.seq) {
      return { ok: false, reason: 'stale-record', currentSeq: current.seq }
    }
    if (current == null) {
      // only what has expired is touched, so a refused REGISTER stays cheap however full the store is
      if ((namespaces != null && namespaces.size >= limits.maxPerPeer) || this.expiries.size >= limits.maxTotal) {
        await this.prune(now)
      }
      if (namespaces != null && namespaces.size >= limits.maxPerPeer) return { ok: false, reason: 'peer-limit' }
      if (this.expiries.size >= limits.maxTotal) return { ok: false, reason: 'total-limit' }
    } else {
      this.remove(current)
    }

    const entry: Entry = {
      ...registration,
      // the decoded record may be a view into a whole frame; keep only its own bytes
      // (not with slice(): on a Node Buffer it is a view that pins the frame)
      signedPeerRecord: new Uint8Array(registration.signedPeerRecord),
      cursor: ++this.lastCursor,
      live: true,
      heapIndex: -1
    }
    let peerEntries = this.byPeer.get(entry.peerId)
    if (peerEntries == null) {
      peerEntries = new Map()
      this.byPeer.set(entry.peerId, peerEntries)
    }
    peerEntries.set(entry.namespace, entry)
    let log = this.byNamespace.get(entry.namespace)
    if (log == null) {
      log = new CursorLog()
      this.byNamespace.set(entry.namespace, log)
    }
    log.append(entry)
    this.all.append(entry)
    this.expiries.push(entry)
    return { ok: true }
  }

  async unregister (peerId: string, namespace: string | undefined, _now?: number): Promise<number> {
    const namespaces = this.byPeer.get(peerId)
    if (namespaces == null) return 0
    const doomed = namespace == null ? [...namespaces.values()] : [namespaces.get(namespace)].filter(e => e != null)
    doomed.forEach(entry => { this.remove(entry) })
    return doomed.length
  }

  async unregisterRelayed (peerId: string, relay: string, _now?: number): Promise<number> {
    const namespaces = this.byPeer.get(peerId)
    if (namespaces == null) return 0
    const doomed = [...namespaces.values()].filter(entry => entry.relayedVia === relay)
    doomed.forEach(entry => { this.remove(entry) })
    return doomed.length
  }

  async discover (namespace: string | undefined, after: bigint, limit: number, now: number, options: DiscoverOptions = {}): Promise<DiscoverPage> {
    const log = namespace == null ? this.all : this.byNamespace.get(namespace)
    const registrations = log?.page(after, limit, now, options.signedOnly) ?? []
    return { registrations, cursor: registrations.at(-1)?.cursor ?? after }
  }

  async namespaceStats (now: number): Promise<Map<string, number>> {
    const stats = new Map<string, number>()
    for (const namespaces of this.byPeer.values()) {
      for (const entry of namespaces.values()) {
        if (entry.expiresAt > now) stats.set(entry.namespace, (stats.get(entry.namespace) ?? 0) + 1)
      }
    }
    return stats
  }

  async prune (now: number): Promise<number> {
    let pruned = 0
    for (let next = this.expiries.peek(); next != null && next.expiresAt <= now; next = this.expiries.peek()) {
      this.remove(next)
      pruned++
    }
    return pruned
  }

  private remove (entry: Entry): void {
    if (!entry.live) return
    entry.live = false
    this.expiries.remove(entry)

    const namespaces = this.byPeer.get(entry.peerId)
    namespaces?.delete(entry.namespace)
    if (namespaces?.size === 0) this.byPeer.delete(entry.peerId)

    const log = this.byNamespace.get(entry.namespace)
    log?.markDead()
    if (log?.size === 0) this.byNamespace.delete(entry.namespace)
    this.all.markDead()
  }
}

/** The in-memory registration store */
export function memoryStore (): RegistrationStore {
  return new MemoryRegistrationStore()
}
