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
  /** Processes to spread the peers over */
  workers: number
  /** Roster indexes of the peers that poll the namespace; the others only register */
  walkers: number[]
}

export interface CrowdStatus {
  /** In roster order */
  peers: PeerStatus[]
  /** Per roster index: how many registered peers have found it, and when the last of them did */
  foundBy: number[]
  lastFoundAt: number[]
  /** Bytes resident, all workers together */
  workersRss: number
  /** Seconds of CPU, all workers together */
  workersCpu: number
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
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
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
  private readonly workers: Worker[]
  /** Roster index of each worker's first peer */
  private readonly offsets: number[]

  private constructor (workers: Worker[], offsets: number[], roster: string[]) {
    this.workers = workers
    this.offsets = offsets
    this.roster = roster
  }

  /** Make the peers (not started) and tell every process the roster */
  static async create (init: CrowdInit): Promise<Crowd> {
    const workers = Array.from({ length: init.workers }, () => new Worker())
    try {
      const shares = workers.map((_, w) => Math.floor(init.peers / init.workers) + (w < init.peers % init.workers ? 1 : 0))
      const offsets = shares.map((_, w) => shares.slice(0, w).reduce((a, b) => a + b, 0))
      const created = await Promise.all(workers.map(async (worker, w) =>
        worker.ask<{ ids: string[] }>({ type: 'create', count: shares[w], offset: offsets[w], point: init.point, namespace: init.namespace, walkers: init.walkers })))
      const roster = created.flatMap(c => c.ids)
      await Promise.all(workers.map(async worker => worker.ask({ type: 'roster', roster })))
      return new Crowd(workers, offsets, roster)
    } catch (err) {
      await Promise.all(workers.map(async worker => worker.stop()))
      throw err
    }
  }

  get size (): number {
    return this.roster.length
  }

  /**
   * Start the peers, `perSecond` of them a second over the whole crowd (the
   * processes take turns); resolves once every one has been started
   */
  async arrive (perSecond: number): Promise<void> {
    const interval = 1000 * this.workers.length / perSecond
    await Promise.all(this.workers.map(async worker => worker.ask({ type: 'start', interval })))
  }

  /** Where every peer is; `registered` (roster indexes) is the set a peer must have found to be complete */
  async status (registered: number[] = []): Promise<CrowdStatus> {
    const parts = await Promise.all(this.workers.map(async worker => worker.ask<WorkerStatus>({ type: 'status', registered })))
    return {
      peers: parts.flatMap(p => p.peers),
      foundBy: parts[0].foundBy.map((_, i) => parts.reduce((sum, p) => sum + p.foundBy[i], 0)),
      lastFoundAt: parts[0].lastFoundAt.map((_, i) => Math.max(...parts.map(p => p.lastFoundAt[i]))),
      workersRss: parts.reduce((sum, p) => sum + p.rss, 0),
      workersCpu: parts.reduce((sum, p) => sum + p.cpu, 0) / 1e6,
      maxLag: Math.max(...parts.map(p => p.maxLag))
    }
  }

  /** A complete walk of the namespace by peer `index`, then dials through the relay to `dials` of the peers it found */
  async walk (index: number, dials: number, timeout: number): Promise<WalkOutcome> {
    return this.workerOf(index).ask({ type: 'walk', peer: index, dials, timeout })
  }

  /** For every peer, in roster order: how many of `wanted` (itself aside) its view of the namespace lacks */
  async missingFromViews (wanted: number[]): Promise<number[]> {
    const parts = await Promise.all(this.workers.map(async worker => worker.ask<{ missing: number[] }>({ type: 'views', wanted })))
    return parts.flatMap(p => p.missing)
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
