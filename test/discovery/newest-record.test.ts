/**
 * The newest record wins before anything is emitted: when one DISCOVER page,
 * or a round over several points, holds several records of one peer, the
 * older ones are never emitted, put in the view or cached, even when they
 * come first.
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryCache } from '../../src/index.ts'
import { peekPeerRecord } from '../../src/protocol/peer-record.ts'
import { inMemoryClient } from '../fixtures/in-memory.ts'
import { newKey, signRecord } from '../fixtures/records.ts'
import { createScriptedTestPoint, createTestNode, createTestPoint, ManualVisibility, recordEvents, settle, started, stopServices, TestNetwork, until } from './harness.ts'
import { ScriptedPoint } from './scripted-point.ts'
import type { RegistrationCacheFactory } from '../../src/index.ts'
import type { TestPoint } from './harness.ts'
import type { PeerId, PrivateKey } from '@libp2p/interface'

afterEach(stopServices)

/** The memory cache, noting the sequence numbers of every record of `peer` it is ever asked to save */
function recordingCache (peer: () => PeerId | undefined, saved: bigint[]): RegistrationCacheFactory {
  const inner = memoryCache()
  return (self) => {
    const cache = inner(self)
    return {
      ...cache,
      loadRegistrations: async (...args) => cache.loadRegistrations(...args),
      clearRegistrations: async (...args) => cache.clearRegistrations(...args),
      loadSeq: async (...args) => cache.loadSeq(...args),
      saveSeq: async (...args) => cache.saveSeq(...args),
      saveRegistrations: async (namespace, registrations, options) => {
        for (const entry of registrations) {
          if (entry.peerId === peer()?.toString()) saved.push(peekPeerRecord(entry.signedPeerRecord)?.seq ?? -1n)
        }
        await cache.saveRegistrations(namespace, registrations, options)
      }
    }
  }
}

/** A record of `key` at an address that tells its sequence number */
async function recordAt (key: PrivateKey, seq: bigint): Promise<Uint8Array> {
  return signRecord(key, { seq, multiaddrs: [`/ip4/192.0.2.${seq}/tcp/1`] })
}

/** `key` registered at a real point with a record of sequence number `seq` */
async function registerWithSeq (point: TestPoint, key: PrivateKey, seq: number): Promise<void> {
  const peer = await inMemoryClient(point.server!, { now: () => seq }, key)
  peer.setAddresses([`/ip4/192.0.2.${seq}/tcp/1`])
  await peer.client.register(point.id, 'app', { ttl: 7200 })
}

describe('the newest record wins before anything is emitted', () => {
  it('one page with stale records of a peer before and after its newest: only the newest is emitted, viewed and cached', async () => {
    const key = await newKey()
    const peer = peerIdFromPrivateKey(key)
    const script = new ScriptedPoint({})
    for (const seq of [1n, 3n, 2n]) {
      script.entries.push({ namespace: 'app', peerId: peer.toString(), signedPeerRecord: await recordAt(key, seq), ttl: 7200 })
    }
    const saved: bigint[] = []
    const node = await createTestNode(new TestNetwork().add(await createScriptedTestPoint(script)), {
      namespaces: ['app'], cache: recordingCache(() => peer, saved), visibility: new ManualVisibility()
    })
    const found = recordEvents(node.service, 'peer')
    const updates = recordEvents(node.service, 'peer:update')
    await started(node)
    await until(() => found.length > 0)
    await settle()

    expect(found.map(p => p.multiaddrs.map(String))).toEqual([['/ip4/192.0.2.3/tcp/1']])
    expect(updates.map(u => u.peer.seq)).toEqual([3n])
    expect(node.service.getPeers('app').map(p => p.seq)).toEqual([3n])

    // a round of the same page tells nothing older either
    const round = await node.service.discover('app')
    expect(round.map(p => p.seq)).toEqual([3n])
    expect(found.flatMap(p => p.multiaddrs.map(String))).toEqual(['/ip4/192.0.2.3/tcp/1', '/ip4/192.0.2.3/tcp/1'])
    expect(updates.map(u => u.peer.seq)).toEqual([3n])

    await node.service.stop()
    expect(saved.length).toBeGreaterThan(0)
    expect(new Set(saved)).toEqual(new Set([3n]))
  })

  it('two points, one holding a stale record of a peer and one its newest: a round emits, views and caches only the newest, in either order of the points', async () => {
    const key = await newKey()
    const peer = peerIdFromPrivateKey(key)
    const [stale, fresh] = [await createTestPoint(), await createTestPoint()]
    await registerWithSeq(stale, key, 100)
    await registerWithSeq(fresh, key, 200)
    const saved: bigint[] = []
    for (const points of [[stale, fresh], [fresh, stale]]) {
      // nothing polled in the background: only the rounds below ask
      const { service } = await started(await createTestNode(new TestNetwork().add(...points), {
        cache: recordingCache(() => peer, saved), visibility: new ManualVisibility()
      }))
      const found = recordEvents(service, 'peer')
      const updates = recordEvents(service, 'peer:update')

      const round = await service.discover('app')
      expect(round.map(p => [p.seq, p.points.length])).toEqual([[200n, 2]])
      expect(found.map(p => p.multiaddrs.map(String))).toEqual([['/ip4/192.0.2.200/tcp/1']])
      expect(updates.map(u => u.peer.seq)).toEqual([200n])

      // a walk may yield the stale record before the newer one (it streams), but tells and keeps only the newest
      let walked = 0
      for await (const _ of service.discoverAll('app')) walked++
      expect(walked).toBeGreaterThanOrEqual(1)
      expect((await service.findPeers('app', { forceRefresh: true })).map(p => p.seq)).toEqual([200n])
      expect(updates.map(u => u.peer.seq).every(seq => seq === 200n)).toBe(true)
      expect(found.flatMap(p => p.multiaddrs.map(String)).every(a => a === '/ip4/192.0.2.200/tcp/1')).toBe(true)
      await service.stop()
    }
    expect(saved.length).toBeGreaterThan(0)
    expect(new Set(saved)).toEqual(new Set([200n]))
  })
})
