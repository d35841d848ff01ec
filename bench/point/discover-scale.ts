/**
 * DISCOVER latency against namespace size. The store is filled directly (it
 * keeps records as opaque bytes, so one real record under many peer ids is a
 * faithful load) and a real client asks over a real connection, verifying
 * every record it gets. A page should cost the same at 1k and at 100k.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { sealPeerRecord } from '../../src/protocol/peer-record.ts'
import { memoryStore } from '../../src/server/index.ts'
import { createClient, createPoint, stopNodes } from '../../test/fixtures/nodes.ts'
import { round, summarize, time } from '../lib/stats.ts'
import type { Summary } from '../lib/stats.ts'
import type { RegistrationStore } from '../../src/server/index.ts'

export interface ScaleRow {
  registrations: number
  /** First page, no cookie */
  firstPage: Summary
  /** A page resumed from a cookie, deep into the namespace */
  cookiePage: Summary
}

export interface ScaleResult {
  rows: ScaleRow[]
  /** p50 at the largest size over p50 at the smallest; the target is at most 1.5 */
  largestVsSmallest: number
}

export async function fill (store: RegistrationStore, count: number, namespace: string): Promise<void> {
  const key = await generateKeyPair('Ed25519')
  const record = await sealPeerRecord(key, [multiaddr('/ip4/127.0.0.1/tcp/4001')], 1n)
  const limits = { maxPerPeer: 1, maxTotal: Number.MAX_SAFE_INTEGER }
  const expiresAt = Date.now() + 3_600_000
  for (let i = 0; i < count; i++) {
    await store.register({ peerId: `bench-peer-${i}`, namespace, signedPeerRecord: record, seq: 1n, expiresAt }, limits, Date.now())
  }
}

export async function discoverScale (sizes = [1_000, 10_000, 100_000], samples = 40): Promise<ScaleResult> {
  const rows: ScaleRow[] = []
  for (const size of sizes) {
    const store = memoryStore()
    await fill(store, size, 'scale')
    const point = await createPoint({ store, maxRegistrations: size + 1 })
    const { client, node } = await createClient()
    await node.dial(point.address)
    try {
      // a cookie from the middle of the namespace: page once, then discover "after" it
      let cookie: Uint8Array | undefined
      for (let skipped = 0; skipped < size / 2;) {
        const page = await client.discover(point.address, 'scale', { limit: 1000, cookie })
        cookie = page.cookie
        skipped += page.registrations.length
      }
      const first: number[] = []
      const resumed: number[] = []
      for (let i = 0; i < samples; i++) {
        first.push(await time(async () => client.discover(point.address, 'scale', { limit: 100 })))
        resumed.push(await time(async () => client.discover(point.address, 'scale', { limit: 100, cookie })))
      }
      rows.push({ registrations: size, firstPage: summarize(first), cookiePage: summarize(resumed) })
    } finally {
      await stopNodes()
    }
  }
  const smallest = rows[0].cookiePage.median
  const largest = rows[rows.length - 1].cookiePage.median
  return { rows, largestVsSmallest: round(largest / smallest) }
}
