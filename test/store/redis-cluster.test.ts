/**
 * The Redis store on a real Redis Cluster of three masters: the shared store
 * suite passes there too (so no script or multi-key command crosses slots),
 * and records spread over the shards while the index stays in one slot.
 */
import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisRegistrationStore } from '../../src/server/store/redis-store.ts'
import { describeRegistrationStore } from './registration-store.suite.ts'
import { startCluster } from './redis-server.ts'
import type { RedisCluster } from './redis-server.ts'

let cluster: RedisCluster
let client: Cluster
let fleets = 0

function freshFleet (): string {
  return `c${process.pid}-${++fleets}`
}

beforeAll(async () => {
  cluster = await startCluster(3)
  client = new Cluster(cluster.startupNodes, { redisOptions: { protocol: 2 } })
  client.on('error', () => {})
})

afterAll(async () => {
  client?.disconnect()
  await cluster?.destroy()
})

describeRegistrationStore('RedisRegistrationStore on Redis Cluster', async () => {
  const store = await RedisRegistrationStore.open({ client, fleet: freshFleet() })
  return { store, close: async () => store.close() }
})

describe('RedisRegistrationStore on Redis Cluster: the key layout', () => {
  it('keeps the index in one slot and spreads the records over the shards by namespace', async () => {
    const store = await RedisRegistrationStore.open({ client, fleet: freshFleet() })
    const now = Date.now()
    for (let i = 0; i < 30; i++) {
      const outcome = await store.register({
        peerId: `peer-${i}`,
        namespace: `namespace-${i}`,
        signedPeerRecord: new Uint8Array([i]),
        seq: 1n,
        expiresAt: now + 600_000
      }, { maxPerPeer: 10, maxTotal: 1000 }, now)
      expect(outcome).toEqual({ ok: true })
    }

    const perNode = await Promise.all(cluster.nodes.map(async node => {
      const direct = await node.client()
      return {
        index: (await direct.keys(`{${store.fleet}}:*`)).length,
        records: (await direct.keys(`{${store.fleet}:*`)).length
      }
    }))
    expect(perNode.filter(n => n.index > 0)).toHaveLength(1)
    expect(perNode.reduce((sum, n) => sum + n.records, 0)).toBe(30)
    expect(perNode.filter(n => n.records > 0).length).toBeGreaterThan(1)

    const all = await store.discover(undefined, 0n, 100, now)
    expect(all.registrations.map(r => r.signedPeerRecord[0])).toEqual(Array.from({ length: 30 }, (_, i) => i))
    await store.close()
  })
})
