/**
 * One process of a crowd: it runs its share of browser-shaped peers and
 * answers the coordinator (crowd.ts) over the IPC channel. Every request
 * carries an `id` its reply repeats. Peers in several processes let both
 * cores work and keep their CPU apart from the measuring process's.
 *
 *   node --import tsx test/scale/crowd-worker.ts
 */
import '../../src/node/compat.ts'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { multiaddr } from '@multiformats/multiaddr'
import { BrowserPeer, now } from './browser-peer.ts'
import type { PeerProgress } from './browser-peer.ts'
import type { DiscoveredPeer } from '../../src/index.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

export type WorkerRequest =
  | { type: 'create', count: number, offset: number, point: string, namespace: string, walkers: boolean }
  | { type: 'roster', roster: string[] }
  | { type: 'start', interval: number }
  | { type: 'status', registered: number[] }
  | { type: 'walk', peer: number, dials: number, timeout: number, deadline?: number }
  | { type: 'stop' }

export interface PeerStatus extends PeerProgress {
  walker: boolean
  /** When it had found every registered peer, if it has */
  completeAt?: number
}

export interface WorkerStatus {
  peers: PeerStatus[]
  /** Per roster index: how many of this process's registered peers found it, and when the last of them did */
  foundBy: number[]
  lastFoundAt: number[]
  rss: number
  /** Milliseconds: the longest this process's event loop was held up since the last status, which its peers' timers (pings) suffer too */
  maxLag: number
}

export interface DialOutcome {
  /** Roster index of the peer dialled */
  target: number
  ok: boolean
  /** The connection went through the point's relay */
  relayed: boolean
  ms: number
  error?: string
}

export interface WalkOutcome {
  ms: number
  /** Why the walk failed, if it did */
  error?: string
  /** Roster indexes of the peers the walk returned, itself aside */
  found: number[]
  dials: DialOutcome[]
}

let point: Multiaddr
let namespace = ''
let offset = 0
const peers: BrowserPeer[] = []
const roster = new Map<string, number>()
const lag = monitorEventLoopDelay({ resolution: 20 })
lag.enable()

/** Make `count` peers, all of them walkers (they poll the namespace) or none */
async function create (count: number, walkers: boolean): Promise<string[]> {
  for (let i = 0; i < count; i++) peers.push(await BrowserPeer.create(point, namespace, walkers))
  return peers.map(peer => peer.id)
}

/** Start our peers one every `interval` ms, on a fixed schedule however long each start takes */
async function startAll (interval: number): Promise<void> {
  const begin = performance.now()
  await Promise.all(peers.map(async (peer, local) => {
    await new Promise(resolve => setTimeout(resolve, begin + local * interval - performance.now()))
    await peer.start(roster)
  }))
}

function status (registered: number[]): WorkerStatus {
  const foundBy = new Array<number>(roster.size).fill(0)
  const lastFoundAt = new Array<number>(roster.size).fill(0)
  for (const peer of peers) {
    if (peer.progress.registeredAt == null) continue
    for (const [index, at] of peer.found) {
      foundBy[index]++
      lastFoundAt[index] = Math.max(lastFoundAt[index], at)
    }
  }
  const maxLag = lag.max / 1e6
  lag.reset()
  return {
    peers: peers.map((peer, local) => ({
      ...peer.progress,
      walker: peer.walker,
      completeAt: peer.completeAt(registered, offset + local)
    })),
    foundBy,
    lastFoundAt,
    rss: process.memoryUsage().rss,
    maxLag
  }
}

async function dial (peer: BrowserPeer, target: { index: number, multiaddrs: Multiaddr[] }, timeout: number): Promise<DialOutcome> {
  const start = now()
  try {
    const connection = await peer.node.dial(target.multiaddrs, { signal: AbortSignal.timeout(timeout) })
    const ms = now() - start
    const ok = roster.get(connection.remotePeer.toString()) === target.index
    const relayed = connection.remoteAddr.toString().includes('/p2p-circuit')
    await connection.close()
    return { target: target.index, ok, relayed, ms }
  } catch (err: any) {
    return { target: target.index, ok: false, relayed: false, ms: now() - start, error: `${err?.name}: ${err?.message}` }
  }
}

/**
 * Walks wait for each other: a walk verifies every record it receives, and
 * the event loop it holds up is every other peer's here too, whose pings to
 * the point would time out and close their connections
 */
let walking: Promise<unknown> = Promise.resolve()

/**
 * A complete walk of the namespace from one peer, then dials to `dials` of
 * the peers it found, chosen at random; each request may take `timeout` ms,
 * and none starts after `deadline` (ms since the epoch)
 */
async function walk (local: number, dials: number, timeout: number, deadline = Infinity): Promise<WalkOutcome> {
  const peer = peers[local]
  const start = now()
  if (start >= deadline) return { ms: 0, error: 'NotWalked: the walks ran out of time before its turn', found: [], dials: [] }
  const limit = Math.max(1, Math.floor(Math.min(timeout, deadline - start)))
  let found: DiscoveredPeer[]
  try {
    found = await peer.node.services.rendezvous.findPeers(namespace, { forceRefresh: true, signal: AbortSignal.timeout(limit) })
  } catch (err: any) {
    return { ms: now() - start, error: `${err?.name}: ${err?.message}`, found: [], dials: [] }
  }
  const ms = now() - start
  // a record's addresses end at the relay; the peer's own id goes after them
  const targets = found
    .map(p => ({ index: roster.get(p.id.toString()) ?? -1, multiaddrs: p.multiaddrs.map(ma => ma.encapsulate(`/p2p/${p.id.toString()}`)) }))
    .filter(t => t.index >= 0 && t.index !== offset + local)
  const chosen = targets.map(t => ({ t, key: Math.random() })).sort((a, b) => a.key - b.key).slice(0, dials).map(({ t }) => t)
  return { ms, found: targets.map(t => t.index), dials: await Promise.all(chosen.map(async t => dial(peer, t, limit))) }
}

async function handle (request: WorkerRequest): Promise<unknown> {
  switch (request.type) {
    case 'create':
      point = multiaddr(request.point)
      namespace = request.namespace
      offset = request.offset
      return { ids: await create(request.count, request.walkers) }
    case 'roster':
      request.roster.forEach((id, index) => roster.set(id, index))
      return {}
    case 'start':
      await startAll(request.interval)
      return {}
    case 'status':
      return status(request.registered)
    case 'walk': {
      const next = walking.then(async () => walk(request.peer - offset, request.dials, request.timeout, request.deadline))
      walking = next.catch(() => {})
      return next
    }
    case 'stop':
      await Promise.all(peers.map(async peer => peer.stop()))
      return {}
  }
}

process.on('message', (message: WorkerRequest & { id: number }) => {
  handle(message).then(
    reply => { process.send?.({ id: message.id, reply }) },
    (err: any) => { process.send?.({ id: message.id, error: String(err?.stack ?? err) }) }
  )
})
// the coordinator went away: nothing is left to report to
process.once('disconnect', () => { process.exit(0) })
