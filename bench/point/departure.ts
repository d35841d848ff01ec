/**
 * What a departure costs the point: dropping the registrations of a peer
 * whose last connection closed (three namespaces, all relayed through the
 * point), in stores of 1k and 100k registrations, in memory and in Redis (a
 * throwaway redis-server on a free loopback port). Two baselines from the
 * same stores: the peer's own UNREGISTER of the same registrations, which a
 * drop should cost no more than, at any size; and one walk of the whole store
 * through DISCOVER pages, what finding a peer's registrations would cost
 * without the store's index by peer.
 */
import { startRedis } from '../../test/store/redis-server.ts'
import { memoryStore } from '../../src/server/index.ts'
import { RedisRegistrationStore } from '../../src/server/store/redis-store.ts'
import { realPeers } from '../lib/peers.ts'
import { round, summarize, time, timeMany } from '../lib/stats.ts'
import type { RegistrationStore } from '../../src/server/index.ts'
import type { Summary } from '../lib/stats.ts'

const RELAY = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const NAMESPACES = 100
const PER_PEER = 3
const unlimited = { maxPerPeer: Number.MAX_SAFE_INTEGER, maxTotal: Number.MAX_SAFE_INTEGER }

export interface DepartureRow {
  store: 'memory' | 'redis'
  registrations: number
  /** Microseconds to drop one departed peer's registrations */
  drop: Summary
  /** Microseconds for a peer's UNREGISTER of as many registrations (all its namespaces at once) */
  unregister: Summary
  /** Median drop over median unregister */
  dropVsUnregister: number
  /** Milliseconds to walk every registration once, 1000 to a page */
  walk: Summary
}

export interface DepartureResult {
  namespaces: number
  /** Registrations of each departing peer */
  perPeer: number
  redisVersion: string
  rows: DepartureRow[]
  /** Median drop at the largest size over the smallest, per store */
  memoryGrowth: number
  redisGrowth: number
}

interface Subject {
  store: RegistrationStore
  close(): Promise<void>
  /** Requests in flight while filling */
  concurrency: number
}

/** `size` registrations, of which `departing` peers hold `PER_PEER` each; all relayed through RELAY. Resolves with the departing peers */
async function fill (subject: Subject, size: number, departing: number, record: Uint8Array): Promise<string[]> {
  const expiresAt = Date.now() + 3_600_000
  const leaving = Array.from({ length: departing }, (_, i) => `leaving-${i}`)
  const owners = [...leaving.flatMap(peer => Array<string>(PER_PEER).fill(peer)), ...Array.from({ length: size - departing * PER_PEER }, (_, i) => `staying-${i}`)]
  await timeMany(owners.length, subject.concurrency, async (i) => {
    const outcome = await subject.store.register({ peerId: owners[i], namespace: `ns-${i % NAMESPACES}`, signedPeerRecord: record, seq: 1n, expiresAt, relayedVia: RELAY }, unlimited, Date.now())
    if (!outcome.ok) throw new Error(`filling the store failed: ${outcome.reason}`)
  })
  return leaving
}

async function walk (store: RegistrationStore): Promise<void> {
  const now = Date.now()
  for (let cursor = 0n; ;) {
    const page = await store.discover(undefined, cursor, 1000, now)
    if (page.registrations.length === 0) return
    cursor = page.cursor
  }
}

async function measure (kind: DepartureRow['store'], subject: Subject, size: number, departures: number, walks: number, record: Uint8Array): Promise<DepartureRow> {
  try {
    const leaving = await fill(subject, size, 2 * departures, record)
    const walked: number[] = []
    for (let i = 0; i < walks; i++) walked.push(await time(async () => walk(subject.store)))
    // taking turns, so that whatever else loads the machine falls on both alike
    const drops: number[] = []
    const unregisters: number[] = []
    for (let i = 0; i < leaving.length; i += 2) {
      let dropped = 0
      let unregistered = 0
      drops.push(1000 * await time(async () => { dropped = await subject.store.unregisterRelayed?.(leaving[i], RELAY, Date.now()) ?? 0 }))
      unregisters.push(1000 * await time(async () => { unregistered = await subject.store.unregister(leaving[i + 1], undefined, Date.now()) }))
      if (dropped !== PER_PEER || unregistered !== PER_PEER) throw new Error(`removed ${dropped} and ${unregistered} registrations, not ${PER_PEER} each`)
    }
    const drop = summarize(drops)
    const unregister = summarize(unregisters)
    return { store: kind, registrations: size, drop, unregister, dropVsUnregister: round(drop.median / unregister.median), walk: summarize(walked) }
  } finally {
    await subject.close()
  }
}

export async function departureCost (sizes = [1_000, 100_000], departures = 200, walks = 3): Promise<DepartureResult> {
  const [{ record }] = await realPeers(1)
  const redis = await startRedis()
  try {
    const info = String(await (await redis.client()).call('INFO', 'server'))
    const rows: DepartureRow[] = []
    for (const size of sizes) {
      rows.push(await measure('memory', { store: memoryStore(), close: async () => {}, concurrency: 1 }, size, departures, walks, record))
      const store = await RedisRegistrationStore.open({ url: redis.url, fleet: `bench-departure-${size}` })
      rows.push(await measure('redis', { store, close: async () => store.close(), concurrency: 64 }, size, departures, walks, record))
    }
    const growth = (kind: DepartureRow['store']): number => {
      const of = rows.filter(row => row.store === kind)
      return round(of[of.length - 1].drop.median / of[0].drop.median)
    }
    return {
      namespaces: NAMESPACES,
      perPeer: PER_PEER,
      redisVersion: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
      rows,
      memoryGrowth: growth('memory'),
      redisGrowth: growth('redis')
    }
  } finally {
    await redis.destroy()
  }
}
