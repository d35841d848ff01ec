import { afterEach, describe, it, expect } from 'vitest'
import { CARRIERS, startPoint, stopPoints } from '../fixtures/harness.ts'
import type { Registration } from '../../src/client/api.ts'
import type { RendezvousClientService as RendezvousClient } from '../../src/client/rendezvous-client.ts'
import type { DialTarget } from '@libp2p/interface'

/** Drain discoverAll, keeping what it yields and the cookie it returns */
async function drain (client: RendezvousClient, point: DialTarget, namespace: string, options: Parameters<RendezvousClient['discoverAll']>[2] = {}): Promise<{ registrations: Registration[], cookie?: Uint8Array }> {
  const registrations: Registration[] = []
  const pages = client.discoverAll(point, namespace, options)
  while (true) {
    const next = await pages.next()
    if (next.done === true) return { registrations, cookie: next.value }
    registrations.push(next.value)
  }
}

describe.each(CARRIERS)('the client against our point, over %s', (carrier) => {
  afterEach(stopPoints)

  it('given a registration by one peer, when another discovers, then it gets the registration verified, with the peer\'s own addresses and sequence number', async () => {
    const point = await startPoint(carrier)
    const [alice, bob] = [await point.peer(), await point.peer()]
    expect(await alice.client.register(point.target, 'app', { ttl: 300 })).toBe(300)

    const page = await bob.client.discover(point.target, 'app')
    expect(page.dropped).toBe(0)
    expect(page.registrations).toHaveLength(1)
    const [found] = page.registrations
    expect(found.peerId.equals(alice.peerId)).toBe(true)
    expect(found.namespace).toBe('app')
    expect(found.ttl).toBe(300)
    expect(found.seq).toBe(alice.client.ownRecord.seq)
    expect(found.multiaddrs.map(String)).toEqual(alice.client.ownRecord.addresses().map(String))
    expect(found.multiaddrs.length).toBeGreaterThan(0)
  })

  it('given no ttl, then register resolves with the ttl the point chose', async () => {
    const point = await startPoint(carrier, { defaultTtl: 600 })
    const alice = await point.peer()
    expect(await alice.client.register(point.target, 'app')).toBe(600)
  })

  it('given more registrations than a page holds, then discoverAll yields each once and returns a cookie that later yields only what is new', async () => {
    const point = await startPoint(carrier)
    const peers = [await point.peer(), await point.peer(), await point.peer(), await point.peer(), await point.peer()]
    for (const peer of peers) await peer.client.register(point.target, 'app', { ttl: 300 })

    const first = await drain(peers[0].client, point.target, 'app', { pageSize: 2 })
    expect(first.registrations.map(r => r.peerId.toString())).toEqual(peers.map(p => p.peerId.toString()))

    const late = await point.peer()
    await late.client.register(point.target, 'app', { ttl: 300 })
    const second = await drain(peers[0].client, point.target, 'app', { pageSize: 2, cookie: first.cookie })
    expect(second.registrations.map(r => r.peerId.toString())).toEqual([late.peerId.toString()])
  })

  it('given nothing to advertise, then register fails with NoAddressesError and the point hears nothing', async () => {
    const point = await startPoint(carrier)
    const alice = await point.peer({ addressFilter: () => false })
    await expect(alice.client.register(point.target, 'app', { ttl: 300 })).rejects.toHaveProperty('name', 'NoAddressesError')
    expect(await point.server.getNamespaceStats()).toEqual(new Map())
  })
})
