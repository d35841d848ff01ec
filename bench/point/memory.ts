/**
 * Server memory per registration at 100k registrations: growth of the heap
 * (and of array buffers, where record bytes live) of a fresh in-memory store,
 * against the bytes of the record itself, which no store can go below. The
 * peer id strings are made inside the measured window, as a point makes them
 * from each connection. Needs `--expose-gc` for a settled heap; repeated on
 * fresh stores and the median taken.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { sealPeerRecord } from '../../src/protocol/peer-record.ts'
import { memoryStore } from '../../src/server/index.ts'
import { round, summarize } from '../lib/stats.ts'
import type { Summary } from '../lib/stats.ts'

export interface MemoryResult {
  registrations: number
  namespaces: number
  /** Bytes of the signed record every registration holds */
  recordBytes: number
  /** Bytes per registration, one figure per repetition */
  bytesPerRegistration: Summary
  /** The median over the record's own size */
  overheadRatio: number
}

function gc (): void {
  const collect = (globalThis as { gc?: () => void }).gc
  if (collect == null) throw new Error('the memory benchmark needs node --expose-gc')
  collect()
  collect()
}

function used (): number {
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}

/**
 * Bytes per registration of one fresh store filled with `count`. A function
 * of its own, so that its store is unreachable once it returns: a store held
 * in the caller's frame would still be alive when the next one is measured.
 */
async function measureOnce (count: number, namespaces: number, record: Uint8Array): Promise<number> {
  const limits = { maxPerPeer: 1000, maxTotal: Number.MAX_SAFE_INTEGER }
  const expiresAt = Date.now() + 3_600_000
  gc()
  const before = used()
  const store = memoryStore()
  for (let i = 0; i < count; i++) {
    // 52 characters, as an Ed25519 peer id; a new string per registration, as from each connection
    const peerId = `12D3KooW${String(i).padStart(44, '0')}`
    await store.register({ peerId, namespace: `ns-${i % namespaces}`, signedPeerRecord: record, seq: 1n, expiresAt }, limits, Date.now())
  }
  gc()
  const bytes = (used() - before) / count
  // the store is used after the measurement, or the collector would be free to take it before it
  const held = [...(await store.namespaceStats(Date.now())).values()].reduce((a, b) => a + b, 0)
  if (held !== count) throw new Error(`the store holds ${held} registrations, not ${count}`)
  return bytes
}

export async function memoryPerRegistration (count = 100_000, namespaces = 100, repetitions = 3): Promise<MemoryResult> {
  const key = await generateKeyPair('Ed25519')
  // the record of a browser behind a relay: one circuit address
  const record = await sealPeerRecord(key, [multiaddr('/ip4/198.51.100.7/tcp/443/wss/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK/p2p-circuit')], 1n)
  const perRegistration: number[] = []
  for (let r = 0; r < repetitions; r++) {
    perRegistration.push(await measureOnce(count, namespaces, record))
  }
  const bytesPerRegistration = summarize(perRegistration)
  return {
    registrations: count,
    namespaces,
    recordBytes: record.byteLength,
    bytesPerRegistration,
    overheadRatio: round(bytesPerRegistration.median / record.byteLength)
  }
}
