/**
 * Server memory per registration at 100k registrations: heap growth of a
 * fresh in-memory store, against the bytes of the records it must keep (the
 * baseline no store can go below). Needs `--expose-gc` for a settled heap.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { sealPeerRecord } from '../../src/protocol/peer-record.ts'
import { memoryStore } from '../../src/server/index.ts'
import { round } from '../lib/stats.ts'

export interface MemoryResult {
  registrations: number
  recordBytes: number
  bytesPerRegistration: number
  /** bytes per registration over the record's own size */
  overheadRatio: number
}

function settledHeap (): number {
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers
}

export async function memoryPerRegistration (count = 100_000): Promise<MemoryResult> {
  const key = await generateKeyPair('Ed25519')
  const record = await sealPeerRecord(key, [multiaddr('/ip4/127.0.0.1/tcp/4001/ws'), multiaddr('/ip4/10.0.0.1/tcp/4001')], 1n)
  const peerIds = Array.from({ length: count }, (_, i) => `12D3KooWBench${String(i).padStart(40, '0')}`)
  const limits = { maxPerPeer: 1000, maxTotal: Number.MAX_SAFE_INTEGER }
  const expiresAt = Date.now() + 3_600_000

  const store = memoryStore()
  const before = settledHeap()
  for (let i = 0; i < count; i++) {
    await store.register({ peerId: peerIds[i], namespace: `ns-${i % 100}`, signedPeerRecord: record, seq: 1n, expiresAt }, limits, Date.now())
  }
  const after = settledHeap()
  // peer id strings are the caller's (they come from connections), so they are not counted against the store
  const bytesPerRegistration = (after - before) / count
  return { registrations: count, recordBytes: record.byteLength, bytesPerRegistration: round(bytesPerRegistration, 0), overheadRatio: round(bytesPerRegistration / record.byteLength) }
}
