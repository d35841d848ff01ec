/**
 * The point under load: 50 client nodes on real TCP connections over
 * loopback REGISTER and DISCOVER at once, against points in processes of
 * their own. Two baselines, measured in the same rounds:
 * - libp2p's ping over the same connections: a fresh stream and one round
 *   trip, the cheapest request/response libp2p can carry, so the ratios are
 *   what rendezvous itself costs on top of that;
 * - for the scale-out store, the same requests at a point on the in-memory
 *   store, against one whose registrations live in Redis (a throwaway
 *   redis-server on a free loopback port).
 */
import { startRedis } from '../../test/store/redis-server.ts'
import { round } from '../lib/stats.ts'
import { connect, runRounds, startClients, stopClients } from './load-driver.ts'
import { startRemotePoint } from './remote-point.ts'
import type { KindSummary, LoadClient } from './load-driver.ts'
import type { RemotePoint } from './remote-point.ts'

/** One kind of request against a baseline: ratios of medians */
export interface Versus extends KindSummary {
  p50Ratio: number
  perSecondRatio: number
  pointCpuRatio: number
}

export interface LoadResult {
  clients: number
  /** Requests per burst; `rounds` bursts per kind and point */
  requests: number
  rounds: number
  redisVersion: string
  /** The in-memory point; REGISTER and DISCOVER against its ping */
  ping: KindSummary
  register: Versus
  discover: Versus
  /** The Redis point, against the in-memory one */
  redis: { register: Versus, discover: Versus }
}

function versus (kind: KindSummary, baseline: KindSummary): Versus {
  return {
    ...kind,
    p50Ratio: round(kind.latency.median / baseline.latency.median),
    perSecondRatio: round(kind.perSecond.median / baseline.perSecond.median),
    pointCpuRatio: round(kind.pointCpuUs / baseline.pointCpuUs)
  }
}

export async function pointLoad (clients = 50, requestsPerClient = 8, rounds = 5): Promise<LoadResult> {
  const redis = await startRedis()
  const points: RemotePoint[] = []
  const nodes: LoadClient[] = []
  try {
    const info = String(await (await redis.client()).call('INFO', 'server'))
    const memory = await startRemotePoint('memory:')
    points.push(memory)
    const shared = await startRemotePoint(redis.url)
    points.push(shared)
    nodes.push(...await startClients(clients))
    await connect(nodes, memory)
    await connect(nodes, shared)

    const [ping, register, discover, redisRegister, redisDiscover] = await runRounds(nodes, { memory, redis: shared }, [
      { point: 'memory', kind: 'ping' },
      { point: 'memory', kind: 'register' },
      { point: 'memory', kind: 'discover' },
      { point: 'redis', kind: 'register' },
      { point: 'redis', kind: 'discover' }
    ], clients * requestsPerClient, rounds)
    return {
      clients,
      requests: clients * requestsPerClient,
      rounds,
      redisVersion: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
      ping,
      register: versus(register, ping),
      discover: versus(discover, ping),
      redis: { register: versus(redisRegister, register), discover: versus(redisDiscover, discover) }
    }
  } finally {
    await stopClients(nodes)
    await Promise.all(points.map(async point => point.stop()))
    await redis.destroy()
  }
}
