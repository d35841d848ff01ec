/**
 * A crowd of browser-shaped peers in one namespace at one point, spread over
 * worker processes (crowd-worker.ts), seen from the process that measures.
 * Peer i of the crowd is index i of its roster in every process.
 */
import { fork } from 'node:child_process'
import { join } from 'node:path'
import type { PeerStatus, WalkOutcome, WorkerRequest, WorkerStatus } from './crowd-worker.ts'
import type { ChildProcess } from 'node:child_process'

export interface CrowdInit {
  peers: number
  /** The point's WebSocket address, with its peer id */
  point: string
  namespace: string
  /** Processes to spread the peers that only register over */
  workers: number
  /**
   * How many peers poll the namespace (apps that list their peers); they
   * take the last indexes of the roster, and processes of their own (see
   * WALKERS_PER_PROCESS)
   */
  walkers: number
}

/**
 * A walker verifies every record of the namespace when it walks it, holding
 * up its process's event loop; in a process of their own, a few at a time,
 * they cannot hold up the pings of the crowd that only registers
 */
const WALKERS_PER_PROCESS = 10

export interface CrowdStatus {
  /** In roster order */
  peers: PeerStatus[]
  /** Per roster index: how many registered peers have found it, and when the last of them did */
  foundBy: number[]
  lastFoundAt: number[]
  /** Bytes resident, all workers together */
  workersRss: number
  /** Milliseconds: the longest any worker's event loop was held up since the last status */
  maxLag: number
}

class Worker {
  private readonly child: ChildProcess
  private readonly pending = new Map<number, { resolve(reply: any): void, reject(err: Error): void }>()
  private nextId = 0
  private exited?: string

  constructor () {
    this.child = fork(join(import.meta.dirname, 'crowd-worker.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // browsers run on machines of their own: in sessions of their own, each gets a share of the cores of its own
      detached: true
    })
    this.child.on('message', (message: { id: number, reply?: unknown, error?: string }) => {
      const waiter = this.pending.get(message.id)
      this.pending.delete(message.id)
      if (message.error != null) waiter?.reject(new Error(`crowd worker: ${message.error}`))
      else waiter?.resolve(message.reply)
    })
    this.child.once('exit', (code, signal) => {
      this.exited = `crowd worker exited (${code ?? signal})`
      for (const waiter of this.pending.values()) waiter.reject(new Error(this.exited))
      this.pending.clear()
    })
  }

  async ask<T> (request: WorkerRequest): Promise<T> {
    if (this.exited != null) throw new Error(this.exited)
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.child.send({ ...request, id })
    })
  }

  async stop (): Promise<void> {
    if (this.exited != null) return
    const gone = new Promise(resolve => this.child.once('exit', resolve))
    await this.ask({ type: 'stop' }).catch(() => {})
    this.child.disconnect()
    await gone
  }
}

/** Roster indexes of the peers a point has accepted */
export function registeredIndexes (status: CrowdStatus): number[] {
  return status.peers.flatMap((peer, index) => peer.registeredAt != null ? [index] : [])
}

export class Crowd {
  /** Every peer's id, by roster index */
  readonly roster: string[]
  /** Roster indexes of the walkers */
  readonly walkers: number[]
  private readonly workers: Worker[]
  /** Peers in each worker, and the roster index of its first */
  private readonly shares: number[]
  private readonly offsets: number[]

  private constructor (workers: Worker[], shares: number[], roster: string[], walkers: number) {
    this.workers = workers
    this.shares = shares
    this.offsets = shares.map((_, w) => shares.slice(0, w).reduce((a, b) => a + b, 0))
    this.roster = roster
    this.walkers = roster.map((_, i) => i).slice(roster.length - walkers)
  }

  /** Make the peers (not started) and tell every process the roster */
  static async create (init: CrowdInit): Promise<Crowd> {
    const split = (count: number, parts: number): number[] => Array.from({ length: parts }, (_, w) => Math.floor(count / parts) + (w < count % parts ? 1 : 0))
    const shares = [...split(init.peers - init.walkers, init.workers), ...split(init.walkers, Math.ceil(init.walkers / WALKERS_PER_PROCESS))]
    const workers = shares.map(() => new Worker())
    try {
      const created = await Promise.all(workers.map(async (worker, w) => worker.ask<{ ids: string[] }>({
        type: 'create',
        count: shares[w],
        offset: shares.slice(0, w).reduce((a, b) => a + b, 0),
        point: init.point,
        namespace: init.namespace,
        walkers: w >= init.workers
      })))
      const roster = created.flatMap(c => c.ids)
      await Promise.all(workers.map(async worker => worker.ask({ type: 'roster', roster })))
      return new Crowd(workers, shares, roster, init.walkers)
    } catch (err) {
      await Promise.all(workers.map(async worker => worker.stop()))
      throw err
    }
  }

  get size (): number {
    return this.roster.length
  }

  /** Worker processes, walkers' included */
  get processes (): number {
    return this.workers.length
  }

  /**
   * Start the peers, `perSecond` of them a second over the whole crowd, each
   * process spreading its own evenly over that time (so walkers arrive
   * early, late and in between); resolves once every one has been started
   */
  async arrive (perSecond: number): Promise<void> {
    const duration = 1000 * this.size / perSecond
    await Promise.all(this.workers.map(async (worker, w) => worker.ask({ type: 'start', interval: duration / this.shares[w] })))
  }

  /** Where every peer is; `registered` (roster indexes) is the set a peer must have found to be complete */
  async status (registered: number[] = []): Promise<CrowdStatus> {
    const parts = await Promise.all(this.workers.map(async worker => worker.ask<WorkerStatus>({ type: 'status', registered })))
    return {
      peers: parts.flatMap(p => p.peers),
      foundBy: parts[0].foundBy.map((_, i) => parts.reduce((sum, p) => sum + p.foundBy[i], 0)),
      lastFoundAt: parts[0].lastFoundAt.map((_, i) => Math.max(...parts.map(p => p.lastFoundAt[i]))),
      workersRss: parts.reduce((sum, p) => sum + p.rss, 0),
      maxLag: Math.max(...parts.map(p => p.maxLag))
    }
  }

  /**
   * A complete walk of the namespace by peer `index`, then dials through the
   * relay to `dials` of the peers it found; each request may take `timeout`
   * ms, and none starts after `deadline` (ms since the epoch)
   */
  async walk (index: number, dials: number, timeout: number, deadline?: number): Promise<WalkOutcome> {
    return this.workerOf(index).ask({ type: 'walk', peer: index, dials, timeout, deadline })
  }

  /**
   * Take `status` every `interval` ms until `done` says so, or at most
   * `polls` times; resolves the last one. Each asks for completeness against
   * the peers registered at the one before.
   */
  async until (done: (status: CrowdStatus) => boolean, polls: number, interval = 1000): Promise<CrowdStatus> {
    let status = await this.status()
    for (let i = 1; i < polls && !done(status); i++) {
      await new Promise(resolve => setTimeout(resolve, interval))
      status = await this.status(registeredIndexes(status))
    }
    return status
  }

  async stop (): Promise<void> {
    await Promise.all(this.workers.map(async worker => worker.stop()))
  }

  private workerOf (index: number): Worker {
    let w = this.offsets.length - 1
    while (this.offsets[w] > index) w--
    return this.workers[w]
  }
}
