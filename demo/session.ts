/**
 * One run of the demo: a libp2p node with rendezvous discovery, plus what
 * the page shows about it. How each point is doing, our registrations and
 * the peer list all come from the SDK (`getPoints()`, `getRegistrations()`,
 * `getPeers()` and their events); the page adds only the connections and
 * pings to listed peers.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { describeError, messageOf } from './errors.ts'
import { createNode } from './node.ts'
import type { DemoConfig } from './config.ts'
import type { Problem } from './errors.ts'
import type { DemoNode } from './node.ts'
import type { ConnectionView, PeerView, RegistrationView } from './view.ts'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A configured point: its peer id and the addresses given for it */
interface PointInfo {
  id: string
  addresses: Multiaddr[]
}

/** What the live indicator shows: when a point last answered, and whether any is answering now */
export interface Liveness {
  /** Milliseconds since the epoch of the last answer from any point */
  lastSuccessAt?: number
  /** Some point is reachable now */
  ok: boolean
}

declare global {
  interface Window {
    /** The running node, for the browser console (as js-libp2p's own examples do) and the end-to-end tests */
    libp2p?: DemoNode
  }
}

function pointIdOf (ma: Multiaddr): string {
  return ma.getComponents().findLast(c => c.name === 'p2p')?.value ?? ma.toString()
}

export class Session {
  readonly node: DemoNode
  readonly namespace: string
  readonly peerId: string
  /** Ping results and attempts, per peer id */
  readonly connections = new Map<string, ConnectionView>()
  private readonly points: PointInfo[]
  private readonly changed: () => void
  private readonly unsubscribe: Array<() => void> = []
  private stopped = false

  static async start (config: DemoConfig, points: Multiaddr[], changed: () => void): Promise<Session> {
    const node = await createNode(config, points)
    const session = new Session(node, config, points, changed)
    window.libp2p = node
    session.watch()
    return session
  }

  private constructor (node: DemoNode, config: DemoConfig, points: Multiaddr[], changed: () => void) {
    this.node = node
    this.namespace = config.namespace.trim()
    this.peerId = node.peerId.toString()
    this.changed = changed
    const byId = new Map<string, PointInfo>()
    for (const ma of points) {
      const id = pointIdOf(ma)
      const point = byId.get(id) ?? { id, addresses: [] }
      point.addresses.push(ma)
      byId.set(id, point)
    }
    this.points = [...byId.values()]
  }

  private listen<K extends string> (target: { addEventListener(type: K, fn: (evt: any) => void): void, removeEventListener(type: K, fn: (evt: any) => void): void }, type: K, fn: (evt: any) => void): void {
    target.addEventListener(type, fn)
    this.unsubscribe.push(() => { target.removeEventListener(type, fn) })
  }

  private watch (): void {
    const rendezvous = this.node.services.rendezvous
    const render = (): void => { this.changed() }
    for (const type of ['point:update', 'registration:update', 'peer:update', 'peer:remove'] as const) this.listen(rendezvous, type, render)
    for (const type of ['connection:open', 'connection:close', 'self:peer:update'] as const) this.listen(this.node, type, render)
  }

  /** The point's problem as the page words it */
  private problem (point: PointInfo, err: { errorName?: string, error?: string }): Problem {
    return describeError({ name: err.errorName, message: err.error }, { point: point.addresses[0].toString(), namespace: this.namespace })
  }

  addresses (): string[] {
    return this.node.getMultiaddrs().map(ma => ma.toString())
  }

  registrations (): RegistrationView[] {
    const rendezvous = this.node.services.rendezvous
    const health = rendezvous.getPoints()
    const states = rendezvous.getRegistrations().filter(s => s.namespace === this.namespace)
    return this.points.map(point => {
      const base = { point: point.id, address: point.addresses.map(a => a.toString()).join(' ') }
      const reach = health.find(h => h.point.toString() === point.id)
      // a point that fails is the news, whatever our registration there last was
      if (reach?.status === 'error') return { ...base, state: 'error', error: this.problem(point, reach), retryAt: reach.retryAt }
      const state = states.find(s => s.point.toString() === point.id)
      switch (state?.status) {
        case 'registered':
          return { ...base, state: 'registered', ttl: state.ttl, expiresAt: state.expiresAt, nextRefreshAt: state.refreshAt }
        case 'error':
          return { ...base, state: 'error', error: this.problem(point, state), retryAt: state.retryAt }
        case 'waiting-for-addresses':
          return { ...base, state: 'registering', note: 'waiting for a relay slot at the point, to have an address to register' }
        case 'registering':
          return { ...base, state: 'registering', note: 'registering…' }
        default:
          return { ...base, state: 'registering', note: reach?.status === 'ok' ? 'registering…' : 'connecting to the point…' }
      }
    })
  }

  /** When a point last answered (a poll, a registration), from the SDK */
  liveness (): Liveness {
    const points = this.node.services.rendezvous.getPoints()
    const times = points.map(p => p.lastSuccessAt).filter((t): t is number => t != null)
    return { lastSuccessAt: times.length > 0 ? Math.max(...times) : undefined, ok: points.some(p => p.status === 'ok') }
  }

  peers (): PeerView[] {
    return this.node.services.rendezvous.getPeers(this.namespace).map(peer => ({
      id: peer.id.toString(),
      multiaddrs: peer.multiaddrs.map(ma => ma.toString()),
      expiresAt: peer.expiresAt,
      source: peer.source,
      connected: this.connectionKind(peer.id)
    }))
  }

  private connectionKind (peer: PeerId): 'relayed' | 'direct' | undefined {
    const connections = this.node.getConnections(peer).filter(c => c.status === 'open')
    if (connections.length === 0) return undefined
    // a WebRTC connection's address names the relay that signalled it, yet no relay carries it
    return connections.some(c => c.limits == null && c.direct) ? 'direct' : 'relayed'
  }

  /** The error to show above everything else, if any, with the point it is about */
  error (): { point: string, problem: Problem } | undefined {
    const failing = this.registrations().find(r => r.state === 'error' && r.error != null)
    return failing == null ? undefined : { point: failing.point, problem: failing.error! }
  }

  /**
   * Connect to a listed peer and ping it: directly over WebRTC when it
   * registered a /webrtc address (libp2p dials those before relayed ones, and
   * signals through the relay), then the relayed connection, limited in time
   * and bytes, is closed; through the relay otherwise.
   */
  async connect (peer: PeerView): Promise<void> {
    const set = (view: ConnectionView): void => {
      if (this.stopped) return
      this.connections.set(peer.id, view)
      this.changed()
    }
    set({ state: 'busy', text: 'connecting…' })
    try {
      const targets = peer.multiaddrs.map(a => {
        const ma = multiaddr(a)
        return pointIdOf(ma) === peer.id ? ma : ma.encapsulate(`/p2p/${peer.id}`)
      })
      if (targets.length === 0) throw new Error('it registered no address')
      const connection = await this.node.dial(targets, { signal: AbortSignal.timeout(20_000) })
      if (connection.direct) await this.closeRelayed(connection.remotePeer)
      const via = connection.direct ? 'directly' : 'via relay'
      set({ state: 'busy', text: `connected ${via}, pinging…` })
      const rtt = await this.node.services.ping.ping(connection.remotePeer, { signal: AbortSignal.timeout(20_000) })
      set({ state: 'ok', text: `connected ${via} · ping ${Math.round(rtt)} ms` })
    } catch (err) {
      set({ state: 'error', text: `Could not reach this peer: ${messageOf(err) || 'unknown error'}` })
    }
  }

  /** Close our relayed connections to `peer`, now that a direct one is open */
  private async closeRelayed (peer: PeerId): Promise<void> {
    await Promise.all(this.node.getConnections(peer)
      .filter(c => c.limits != null)
      .map(async c => c.close().catch(err => { c.abort(err) })))
  }

  async stop (): Promise<void> {
    this.stopped = true
    for (const fn of this.unsubscribe.splice(0)) fn()
    if (window.libp2p === this.node) delete window.libp2p
    await this.node.stop()
  }
}
