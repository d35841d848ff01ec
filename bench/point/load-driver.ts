/**
 * Requests from many client nodes at once to a point in its own process:
 * every client keeps one request in flight on its own connection. What the
 * load benchmarks share.
 */
import { discoverRequest, parseDiscoverResponse, parseRegisterResponse, registerRequest } from '../../src/protocol/messages.ts'
import { clientNode } from '../lib/nodes.ts'
import { rawRequest } from '../lib/raw-request.ts'
import { round, summarize, timeMany } from '../lib/stats.ts'
import type { RemotePoint } from './remote-point.ts'
import type { Summary } from '../lib/stats.ts'
import type { ClientNode } from '../lib/nodes.ts'

export type Kind = 'ping' | 'register' | 'discover'

export type LoadClient = ClientNode

export const NAMESPACE = 'bench'

/** `count` client nodes (TCP, with ping), not yet connected to anything */
export async function startClients (count: number): Promise<LoadClient[]> {
  return Promise.all(Array.from({ length: count }, async () => clientNode()))
}

export async function stopClients (clients: LoadClient[]): Promise<void> {
  await Promise.all(clients.map(async node => node.stop()))
}

/** Connect every client to `point`: dialing is not what is measured */
export async function connect (clients: LoadClient[], point: RemotePoint): Promise<void> {
  await Promise.all(clients.map(async node => node.dial(point.address)))
}

/**
 * One request of `kind`. REGISTER sends the client's own record (sealed
 * once, as the SDK caches it); DISCOVER asks for a page of 100 and checks
 * its status but verifies no record: the point is what is measured.
 */
async function request (client: LoadClient, point: RemotePoint, kind: Kind): Promise<void> {
  if (kind === 'ping') {
    await client.services.ping.ping(point.address)
  } else if (kind === 'register') {
    const record = await client.services.rendezvous.ownRecord.seal()
    parseRegisterResponse(await rawRequest(client, point.address, registerRequest(NAMESPACE, record, 7200)))
  } else {
    parseDiscoverResponse(await rawRequest(client, point.address, discoverRequest(NAMESPACE, 100)))
  }
}

/** One burst: `requests` of `kind`, every client at once */
export interface Burst {
  /** Milliseconds per request */
  samples: number[]
  wallMs: number
  /** Milliseconds of the point's CPU the burst took */
  pointCpuMs: number
}

export async function burst (clients: LoadClient[], point: RemotePoint, kind: Kind, requests: number): Promise<Burst> {
  const cpuBefore = await point.cpuMs()
  const { samples, wallMs } = await timeMany(requests, clients.length, async (_, worker) => request(clients[worker], point, kind))
  return { samples, wallMs, pointCpuMs: (await point.cpuMs()) - cpuBefore }
}

export interface KindSummary {
  /** Milliseconds per request, every request of every burst */
  latency: Summary
  /** Requests per second, one figure per burst */
  perSecond: Summary
  /** Microseconds of the point's CPU per request, median over bursts */
  pointCpuUs: number
}

export function summarizeBursts (bursts: Burst[]): KindSummary {
  return {
    latency: summarize(bursts.flatMap(b => b.samples)),
    perSecond: summarize(bursts.map(b => b.samples.length / (b.wallMs / 1000))),
    pointCpuUs: round(summarize(bursts.map(b => b.pointCpuMs * 1000 / b.samples.length)).median, 0)
  }
}

/** A kind of request at one of the points */
export interface Job<P extends string> {
  point: P
  kind: Kind
}

/**
 * `rounds` bursts of every job, the jobs taking turns in a rotating order so
 * that load from elsewhere on the machine falls on all of them alike; one
 * uncounted round first, in the given order (put REGISTER before DISCOVER:
 * it fills the namespace that DISCOVER reads). Resolves one summary per job,
 * in the order given.
 */
export async function runRounds<P extends string> (clients: LoadClient[], points: Record<P, RemotePoint>, jobs: Array<Job<P>>, requests: number, rounds: number): Promise<KindSummary[]> {
  const bursts: Burst[][] = jobs.map(() => [])
  for (let r = 0; r <= rounds; r++) {
    for (let j = 0; j < jobs.length; j++) {
      const index = r === 0 ? j : (r + j) % jobs.length
      const { point, kind } = jobs[index]
      const result = await burst(clients, points[point], kind, requests)
      if (r > 0) bursts[index].push(result)
    }
  }
  return bursts.map(summarizeBursts)
}
