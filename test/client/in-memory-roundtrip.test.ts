import { describe, it, expect } from 'vitest'
import { inMemoryClient, inMemoryPoint } from '../fixtures/in-memory.ts'

describe('in-memory harness', () => {
  it('given a registration, a discover from another peer returns it', async () => {
    const point = await inMemoryPoint()
    const alice = await inMemoryClient(point)
    const bob = await inMemoryClient(point)
    expect(await alice.client.register(point.peerId, 'app', { ttl: 300 })).toBe(300)
    const { registrations } = await bob.client.discover(point.peerId, 'app')
    expect(registrations.map(r => r.peerId.toString())).toEqual([alice.peerId.toString()])
    await point.server.stop()
  })
})
