/**
 * What a crowd run yields (see crowd.ts): its figures, and how they are
 * drawn from the crowd's statuses, the point's usage over time and the ping
 * probe's round trips.
 */
import { round, summarize } from '../lib/stats.ts'
import { POINT_ARGS } from '../../test/scale/cli-point.ts'
import { PING_LOST } from './ping-probe.ts'
import type { PingProbe } from './ping-probe.ts'
import type { Summary } from '../lib/stats.ts'
import type { PointCounts } from '../../test/scale/cli-point.ts'
import type { CrowdStatus } from '../../test/scale/crowd.ts'
import type { WalkOutcome } from '../../test/scale/crowd-worker.ts'

export interface CrowdInit {
  peers: number
  /** Peers that poll the namespace and, at the end, walk it and dial */
  walkers: number
  /** Relayed dials by each walker */
  dials: number
  /** Processes for the peers that only register (the walkers get their own) */
  workers: number
  arrivalsPerSecond: number
}

export interface CrowdResult extends CrowdInit {
  /** The point's command line */
  command: string
  /** Worker processes the peers ran in, the walkers' own included */
  processes: number
  /** Peers that reached each step, of `peers` */
  started: number
  connected: number
  addressed: number
  registered: number
  /** Walkers whose own polls (the SDK's, in the background) had found every registered peer */
  walkersFound: number
  /** Milliseconds from a peer's start to its relay address, and to its registration */
  toAddress?: Summary
  toRegistered?: Summary
  /** Milliseconds from the first peer's start: the last start, and the last registration if every peer registered */
  ramp: number
  allRegistered?: number
  /** Milliseconds from a peer's registration until every walker had found it (peers every walker found) */
  toFoundByAll?: Summary
  foundByAll: number
  /** Milliseconds after the last registration until each walker's polls had found everyone (walkers that did) */
  toWalkerComplete?: Summary
  walks: {
    /** Milliseconds per complete walk, of those that ended */
    ms?: Summary
    /** Walks that returned every other registered peer */
    complete: number
    /** Fewest peers one walk returned */
    fewest: number
    errors: string[]
  }
  dialled: { attempted: number, ok: number, ms?: Summary, errors: string[] }
  point: {
    /** Bytes resident with no peer, and (median) with the crowd connected */
    baselineRss: number
    rss: number
    /** Peers connected when the RSS was taken (median) */
    rssPeers: number
    /** Absent when too few were connected for the figure to mean anything */
    rssPerPeer?: number
    /** Milliseconds of the point's CPU per peer that registered, from the first arrival to the last registration */
    joinCpuPerPeer: number
    /** Milliseconds of the point's CPU per connected peer per minute, with the crowd connected and the sample polling */
    steadyCpuPerPeerMinute?: number
    /** Milliseconds of the point's CPU per complete walk of the namespace */
    walkCpu?: number
  }
  /** The crowd's own processes: bytes resident per peer, and the longest any of their event loops stalled */
  crowdRssPerPeer: number
  crowdMaxLag: number
  /** The machine's 1-minute load average as the crowd began and as it ended, and its cores: other work competes with the crowd and the point */
  loadAverage: { start: number, end: number, cores: number }
  /** The run's course, every 10 s from the first arrival */
  timeline: Moment[]
  /** Milliseconds: the point's ping round trip from the measuring process, alone, while the crowd joined, while it stayed, and during the walks */
  pointPing: { alone?: Summary, join?: Summary, steady?: Summary, walks?: Summary, lost: number }
  /** Connections between peers that nobody dialled (libp2p's relay discovery dials peers it hears of while it lacks a reservation) */
  unaskedConnections: number
  /** The last failure of each peer that had one, most common first */
  problems: Array<{ problem: string, peers: number }>
}

/** The point's usage and the crowd's progress at one moment, and what the point's last statistics line counted */
export interface Sample { at: number, rss: number, cpu: number, connected: number, registered: number, lag: number, point?: PointCounts }

/** One line of the run's course, every TIMELINE_STEP seconds */
export interface Moment {
  /** Seconds since the first arrival */
  second: number
  connected: number
  registered: number
  /** The point's RSS, bytes, and its CPU so far, seconds */
  rss: number
  cpu: number
  /** Milliseconds: the crowd's longest event-loop stall since the moment before */
  lag: number
  /** Milliseconds: the point's slowest ping round trip since the moment before */
  ping?: number
  /** The connections and relay reservations the point itself counted last */
  point?: PointCounts
}

const TIMELINE_STEP = 10

/** Below this share of the crowd connected, per-browser figures would divide by too few to mean anything */
const MEANINGFUL_SHARE = 0.5

export function count (status: CrowdStatus, has: (peer: CrowdStatus['peers'][number]) => boolean): number {
  return status.peers.filter(has).length
}

/** Walkers that registered, and those of them whose own polls have found every registered peer */
export function walkersRegistered (status: CrowdStatus): number {
  return count(status, p => p.walker && p.registeredAt != null)
}

export function walkersFound (status: CrowdStatus): number {
  return count(status, p => p.walker && p.registeredAt != null && p.completeAt != null)
}

/** Summary of the defined values, or undefined when there are none */
function spread (values: Array<number | undefined>): Summary | undefined {
  const defined = values.filter((v): v is number => v != null && Number.isFinite(v))
  return defined.length > 0 ? summarize(defined.map(v => Math.max(0, v))) : undefined
}

function median (values: number[]): number {
  return summarize(values).median
}

/** The same failure in different peers, told apart only by ports and ids */
function problemOf (text: string): string {
  return text.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:…').replace(/12D3Koo\w+/g, '<peer>').slice(0, 160)
}

export interface Phases {
  probe: PingProbe
  loadAverage: CrowdResult['loadAverage']
  samples: Sample[]
  processes: number
  walkers: number[]
  maxLag: number
  walks: WalkOutcome[]
  baseline: Sample[]
  beforeJoin: Sample
  joined: Sample
  steady: Sample[]
  settled: Sample
  walked: Sample
}

/** A sample every TIMELINE_STEP seconds from the first arrival, with the longest stall and ping since the last one kept */
function timeline (samples: Sample[], from: number, probe: PingProbe): Moment[] {
  const moments: Moment[] = []
  let lag = 0
  let since = from
  for (const s of samples) {
    if (s.at < from) continue
    lag = Math.max(lag, s.lag)
    const second = Math.round((s.at - from) / 1000)
    if (moments.length > 0 && second < moments[moments.length - 1].second + TIMELINE_STEP) continue
    const pings = probe.between(since, s.at)
    moments.push({
      second,
      connected: s.connected,
      registered: s.registered,
      rss: s.rss,
      cpu: round(s.cpu, 1),
      lag: round(lag, 0),
      ...(pings.length > 0 ? { ping: round(Math.max(...pings), 0) } : {}),
      ...(s.point != null ? { point: s.point } : {})
    })
    lag = 0
    since = s.at
  }
  return moments
}

export function summarizeRun (init: CrowdInit, status: CrowdStatus, p: Phases): CrowdResult {
  const peers = status.peers
  const isWalker = new Set(p.walkers)
  const registered = peers.filter(peer => peer.registeredAt != null)
  const firstStart = Math.min(...peers.map(peer => peer.startedAt ?? Infinity))
  const lastStart = Math.max(...peers.map(peer => peer.startedAt ?? -Infinity))
  const lastRegistration = Math.max(...registered.map(peer => peer.registeredAt ?? -Infinity))
  const everyone = registered.length === init.peers

  // a peer is found by all once every registered walker but itself has it
  const registeredWalkers = walkersRegistered(status)
  const foundByAll = peers.flatMap((peer, i) => {
    const needed = registeredWalkers - (isWalker.has(i) && peer.registeredAt != null ? 1 : 0)
    return peer.registeredAt != null && needed > 0 && status.foundBy[i] >= needed ? [status.lastFoundAt[i] - peer.registeredAt] : []
  })

  const expected = registered.length
  const walkComplete = p.walks.filter((walk, w) => walk.error == null && walk.found.length >= expected - (peers[p.walkers[w]].registeredAt != null ? 1 : 0))
  const dials = p.walks.flatMap(walk => walk.dials)
  const ok = dials.filter(dial => dial.ok && dial.relayed)

  const baselineRss = median(p.baseline.map(s => s.rss))
  const rss = median(p.steady.map(s => s.rss))
  const rssPeers = median(p.steady.map(s => s.connected))
  const steadyMinutes = (p.settled.at - p.joined.at) / 60_000
  const meaningful = rssPeers >= MEANINGFUL_SHARE * init.peers
  const problems = new Map<string, number>()
  for (const peer of peers) {
    const last = peer.lastFailure ?? peer.lastDrop
    if (last != null) problems.set(problemOf(last), (problems.get(problemOf(last)) ?? 0) + 1)
  }

  return {
    ...init,
    command: `libp2p-rendezvous ${POINT_ARGS.join(' ')}`,
    processes: p.processes,
    started: count(status, peer => peer.startedAt != null),
    connected: count(status, peer => peer.connected),
    addressed: count(status, peer => peer.addressAt != null),
    registered: registered.length,
    walkersFound: walkersFound(status),
    toAddress: spread(peers.map(peer => peer.addressAt == null ? undefined : peer.addressAt - (peer.startedAt ?? 0))),
    toRegistered: spread(peers.map(peer => peer.registeredAt == null ? undefined : peer.registeredAt - (peer.startedAt ?? 0))),
    ramp: round(lastStart - firstStart, 0),
    ...(everyone ? { allRegistered: round(lastRegistration - firstStart, 0) } : {}),
    toFoundByAll: spread(foundByAll),
    foundByAll: foundByAll.length,
    toWalkerComplete: spread(peers.map(peer => peer.walker && peer.completeAt != null ? peer.completeAt - lastRegistration : undefined)),
    walks: {
      ms: spread(p.walks.filter(walk => walk.error == null).map(walk => walk.ms)),
      complete: walkComplete.length,
      fewest: Math.min(...p.walks.map(walk => walk.found.length)),
      errors: [...new Set(p.walks.flatMap(walk => walk.error == null ? [] : [problemOf(walk.error)]))]
    },
    dialled: {
      attempted: dials.length,
      ok: ok.length,
      ms: spread(ok.map(dial => dial.ms)),
      errors: [...new Set(dials.flatMap(dial => dial.ok ? [] : [problemOf(dial.error ?? (dial.relayed ? 'reached another peer' : 'not through the relay'))]))]
    },
    point: {
      baselineRss,
      rss,
      rssPeers,
      ...(meaningful ? { rssPerPeer: round((rss - baselineRss) / rssPeers, 0) } : {}),
      joinCpuPerPeer: registered.length > 0 ? round((p.joined.cpu - p.beforeJoin.cpu) * 1000 / registered.length) : Number.NaN,
      ...(meaningful && steadyMinutes > 0 ? { steadyCpuPerPeerMinute: round((p.settled.cpu - p.joined.cpu) * 1000 / rssPeers / steadyMinutes, 3) } : {}),
      ...(p.walks.length > 0 ? { walkCpu: round((p.walked.cpu - p.settled.cpu) * 1000 / p.walks.length) } : {})
    },
    crowdRssPerPeer: round(status.workersRss / init.peers, 0),
    crowdMaxLag: round(p.maxLag, 0),
    loadAverage: p.loadAverage,
    timeline: timeline(p.samples, p.beforeJoin.at, p.probe),
    pointPing: {
      alone: spread(p.probe.between(0, p.beforeJoin.at)),
      join: spread(p.probe.between(p.beforeJoin.at, p.joined.at)),
      steady: spread(p.probe.between(p.joined.at, p.settled.at)),
      walks: spread(p.probe.between(p.settled.at, p.walked.at)),
      lost: p.probe.pings.filter(ping => ping.ms >= PING_LOST).length
    },
    unaskedConnections: Math.max(0, peers.reduce((sum, peer) => sum + peer.peerConnections, 0) / 2 - ok.length),
    problems: [...problems].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([problem, n]) => ({ problem, peers: n }))
  }
}
