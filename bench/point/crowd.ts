/**
 * A crowd of 1,000 browser-shaped peers in one namespace at the point as it
 * ships: the command line with default flags, in a process of its own, read
 * from outside through /proc. The peers (WebSockets and circuit relay only,
 * running the SDK) live in worker processes and arrive from one address at a
 * steady rate. A sample of them list their peers (the SDK polls for them);
 * the rest only register, to be found, which spares the crowd's two cores a
 * million record verifications the point has no part in.
 *
 * In turn: the point alone (its baseline), the crowd arriving until every
 * peer has registered, the crowd connected while the sample's polls find
 * everyone (one poll interval at most), then a complete walk by each of the
 * sample with dials to some of the peers it found, through the point's
 * relay. Every wait is bounded; the result says how far the crowd got.
 */
import { availableParallelism, loadavg } from 'node:os'
import { DEFAULT_DISCOVER_INTERVAL } from '../../src/discovery/constants.ts'
import { startCliPoint } from '../../test/scale/cli-point.ts'
import { Crowd, registeredIndexes } from '../../test/scale/crowd.ts'
import { round } from '../lib/stats.ts'
import { count, summarizeRun, walkersFound, walkersRegistered } from './crowd-result.ts'
import { PingProbe } from './ping-probe.ts'
import type { CrowdInit, CrowdResult, Sample } from './crowd-result.ts'
import type { CliPoint } from '../../test/scale/cli-point.ts'
import type { CrowdStatus } from '../../test/scale/crowd.ts'
import type { WalkOutcome } from '../../test/scale/crowd-worker.ts'

export type { CrowdInit, CrowdResult } from './crowd-result.ts'

export const CROWD: CrowdInit = { peers: 1000, walkers: 20, dials: 3, workers: 4, arrivalsPerSecond: 20 }

const sleep = async (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Polls a second apart: the most the crowd may take to register after the last arrival, and without progress before it gives up */
const LATE = 45
const STALL = 20
/** Seconds past a poll interval the sample's polls may take to find everyone */
const POLL_SLACK = 15
/** Milliseconds each walk and dial may take, and all the walks together (a process's walkers walk in turn) */
const REQUEST_TIMEOUT = 30_000
const WALKS_TIMEOUT = 150_000
/** Polls of the crowd with everyone connected, at least: the window the steady figures come from */
const STEADY = 20

let lastProgress = 0

/** A line on stderr every 10 s or so, to follow a run that takes minutes */
function progress (s: Sample, probe: PingProbe): void {
  if (s.at - lastProgress < 10_000) return
  lastProgress = s.at
  const pings = probe.between(s.at - 10_000, s.at)
  const counts = s.point == null ? '' : `, the point counts ${s.point.connections} connections and ${s.point.reservations} reservations`
  console.error(`      crowd: ${s.connected} connected, ${s.registered} registered${counts}; point RSS ${(s.rss / 2 ** 20).toFixed(0)} MiB, CPU ${s.cpu.toFixed(1)} s, slowest ping ${pings.length > 0 ? Math.round(Math.max(...pings)) : '—'} ms; crowd's longest stall ${Math.round(s.lag)} ms; load ${loadavg()[0].toFixed(1)}`)
}

export async function crowdAtPoint (init: CrowdInit = CROWD): Promise<CrowdResult> {
  const point = await startCliPoint()
  let probe: PingProbe | undefined
  let crowd: Crowd | undefined
  try {
    probe = await PingProbe.start(point.tcp)
    return await measure(point, probe, init, c => { crowd = c })
  } finally {
    await crowd?.stop()
    await probe?.stop()
    await point.stop()
  }
}

async function measure (point: CliPoint, probe: PingProbe, init: CrowdInit, created: (crowd: Crowd) => void): Promise<CrowdResult> {
  const samples: Sample[] = []
  const sample = (status?: CrowdStatus): Sample => {
    const usage = point.usage()
    const s: Sample = {
      at: performance.timeOrigin + performance.now(),
      ...usage,
      connected: status == null ? 0 : count(status, p => p.connected),
      registered: status == null ? 0 : count(status, p => p.registeredAt != null),
      lag: status?.maxLag ?? 0,
      point: point.stats()
    }
    samples.push(s)
    progress(s, probe)
    return s
  }

  const loadAtStart = loadavg()[0]
  // the point alone, settled
  const baseline: Sample[] = []
  for (let i = 0; i < 5; i++) {
    await sleep(1000)
    baseline.push(sample())
  }

  const crowd = await Crowd.create({ peers: init.peers, point: point.webSocket, namespace: 'crowd', workers: init.workers, walkers: init.walkers })
  const walkers = crowd.walkers
  created(crowd)
  let maxLag = 0
  const poll = async (previous: CrowdStatus): Promise<CrowdStatus> => {
    const next = await crowd.status(registeredIndexes(previous))
    maxLag = Math.max(maxLag, next.maxLag)
    sample(next)
    return next
  }

  // arrival: until every peer has registered, or registrations stall once all have started
  const beforeJoin = sample()
  let started = false
  const arrived = crowd.arrive(init.arrivalsPerSecond).then(() => { started = true })
  const rampPolls = Math.ceil(init.peers / init.arrivalsPerSecond)
  let status = await crowd.status()
  let best = 0
  let still = 0
  for (let i = 0; i < rampPolls + LATE; i++) {
    await sleep(1000)
    status = await poll(status)
    const registered = count(status, p => p.registeredAt != null)
    if (registered === init.peers) break
    still = registered > best ? 0 : still + 1
    best = Math.max(best, registered)
    if (started && still >= STALL) break
  }
  await arrived
  const joined = sample(status)

  // the crowd connected: the sample's own polls find everyone within a poll interval
  const steadyPolls = Math.ceil(DEFAULT_DISCOVER_INTERVAL / 1000) + POLL_SLACK
  for (let i = 0; i < steadyPolls; i++) {
    await sleep(1000)
    status = await poll(status)
    if (i + 1 >= STEADY && walkersFound(status) === walkersRegistered(status)) break
  }
  const steady = samples.slice(samples.indexOf(joined) + 1)
  const settled = sample(status)

  // a complete walk by each of the sample, then dials through the relay to some of the peers it found
  const deadline = performance.timeOrigin + performance.now() + WALKS_TIMEOUT
  const walks: WalkOutcome[] = await Promise.all(walkers.map(async index => crowd.walk(index, init.dials, REQUEST_TIMEOUT, deadline)))
  status = await crowd.status(registeredIndexes(status))
  maxLag = Math.max(maxLag, status.maxLag)
  const walked = sample(status)

  return summarizeRun(init, status, {
    probe,
    loadAverage: { start: round(loadAtStart), end: round(loadavg()[0]), cores: availableParallelism() },
    samples,
    processes: crowd.processes,
    walkers,
    maxLag,
    walks,
    baseline,
    beforeJoin,
    joined,
    steady,
    settled,
    walked
  })
}
