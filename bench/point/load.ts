/**
 * The point under load: 50 client nodes on real TCP connections over loopback
 * REGISTER and DISCOVER at once. The baseline is libp2p's ping over the same
 * connections, the cheapest request/response a libp2p stream can carry, so the
 * ratio is what rendezvous itself costs on top of opening a stream.
 */
import { createClient, createPoint, stopNodes } from '../../test/fixtures/nodes.ts'
import { round, summarize, timeMany } from '../lib/stats.ts'
import type { Summary } from '../lib/stats.ts'

export interface LoadResult {
  clients: number
  requestsPerKind: number
  ping: { summary: Summary, perSecond: number }
  register: { summary: Summary, perSecond: number, p50VsPing: number }
  discover: { summary: Summary, perSecond: number, p50VsPing: number }
}

export async function pointLoad (clients = 50, requestsPerClient = 20): Promise<LoadResult> {
  const point = await createPoint({ maxInboundStreams: 64 }, 'tcp', { ping: true })
  try {
    const nodes = await Promise.all(Array.from({ length: clients }, async () => createClient({}, 'tcp', undefined, { ping: true })))
    // connect everyone first: dialing is not what is measured
    await Promise.all(nodes.map(async ({ node }) => node.dial(point.address)))
    const total = clients * requestsPerClient

    const measure = async (fn: (i: number) => Promise<unknown>): Promise<{ summary: Summary, perSecond: number }> => {
      const { samples, wallMs } = await timeMany(total, clients, fn)
      return { summary: summarize(samples), perSecond: round(total / (wallMs / 1000), 0) }
    }

    const ping = await measure(async (i) => nodes[i % clients].node.services.ping.ping(point.address))
    const register = await measure(async (i) => nodes[i % clients].client.register(point.address, 'bench', { ttl: 7200 }))
    const discover = await measure(async (i) => nodes[i % clients].client.discover(point.address, 'bench', { limit: 100 }))

    return {
      clients,
      requestsPerKind: total,
      ping,
      register: { ...register, p50VsPing: round(register.summary.median / ping.summary.median) },
      discover: { ...discover, p50VsPing: round(discover.summary.median / ping.summary.median) }
    }
  } finally {
    await stopNodes()
  }
}
