/**
 * A crowd of 100 browser-shaped peers (WebSockets and circuit relay only,
 * running the SDK) at the point as it ships: the command line with default
 * flags, in its own process. All of them arrive from one address within a
 * couple of seconds, as a class behind a campus NAT would. The same scenario
 * at 1,000 peers is a benchmark (`npm run bench -- --only crowd`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { killAll } from '../cli/cli-process.ts'
import { startCliPoint } from './cli-point.ts'
import { Crowd } from './crowd.ts'
import type { CliPoint } from './cli-point.ts'
import type { CrowdStatus } from './crowd.ts'
import type { PeerStatus, WalkOutcome } from './crowd-worker.ts'

const PEERS = 100
/** Peers that list their peers (the SDK polls for them); each dials some of those it finds */
const SAMPLE = 10
const DIALS = 3
const ARRIVALS_PER_SECOND = 20
/** Bounds on the waits, not expectations: polls a second apart, and each request's own limit */
const POLLS = 120
const REQUEST_TIMEOUT = 60_000

describe('a crowd at the point with default flags', () => {
  let point: CliPoint
  let crowd: Crowd
  let status: CrowdStatus
  let walks: WalkOutcome[]

  beforeAll(async () => {
    point = await startCliPoint()
    // the sample are apps that list their peers (register and poll); the others only register, to be found
    crowd = await Crowd.create({ peers: PEERS, point: point.webSocket, namespace: 'crowd', workers: 2, walkers: SAMPLE })
    await crowd.arrive(ARRIVALS_PER_SECOND)
    status = await crowd.until(s => s.peers.every(p => p.registeredAt != null), POLLS)
    // then every one walks the whole namespace once, and the sample dial some of the peers they found
    walks = await Promise.all(crowd.roster.map(async (_, i) => crowd.walk(i, crowd.walkers.includes(i) ? DIALS : 0, REQUEST_TIMEOUT)))
  }, (POLLS + 2 * REQUEST_TIMEOUT / 1000 + 60) * 1000)

  afterAll(async () => {
    await crowd?.stop()
    await point?.stop()
    await killAll()
  })

  it('gives every peer an address through its relay, and registers every one', () => {
    // what went wrong with each peer that fell short, to read in the failure
    const without = (has: (p: PeerStatus) => boolean): Array<Partial<PeerStatus> & { peer: number }> => status.peers.flatMap((p, peer) =>
      has(p) ? [] : [{ peer, connected: p.connected, lastFailure: p.lastFailure, lastDrop: p.lastDrop }])
    expect(without(p => p.addressAt != null), 'peers without a relay address').toEqual([])
    expect(without(p => p.registeredAt != null), 'peers not registered').toEqual([])
  })

  it('lets every peer that walks the namespace find every other one', () => {
    for (const [i, walk] of walks.entries()) {
      const others = crowd.roster.map((_, j) => j).filter(j => j !== i)
      expect(walk.error, `peer ${i}'s walk`).toBeUndefined()
      expect([...walk.found].sort((a, b) => a - b), `peer ${i} found`).toEqual(others)
    }
  })

  it('connects the sample to the peers it found, through the relay', () => {
    const dials = walks.flatMap(walk => walk.dials)
    expect(dials).toHaveLength(SAMPLE * DIALS)
    for (const dial of dials) {
      expect(dial, `dial to peer ${dial.target}`).toMatchObject({ ok: true, relayed: true })
    }
  })
})
