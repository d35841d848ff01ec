/**
 * One run of the demo: a libp2p node with rendezvous discovery, plus what
 * the page shows about it. Registration state and the peer list come from
 * the SDK; the page adds what only the node knows: whether each point is
 * reachable, and the connections and pings to listed peers.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { describeError, messageOf } from './errors.ts'
import { createNode } from './node.ts'
import type { DemoConfig } from './config.ts'
import type { DemoNode } from './node.ts'
import type { ConnectionView, PeerView, RegistrationView } from './view.ts'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

interface PointInfo {
  /** The point's peer id */
  id: string
  addresses: Multiaddr[]
  /** From the node's connection events: is the point reachable now? */
  health: { state: 'connecting' | 'connected' | 'down', error?: string }
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
  /** A point came back after being down: register again once we have an address */
  private registerAgain = false
  private stopped = false
  /** `beforeunload` came: we unregistered */
  private leaving = false

  static async start (config: DemoConfig, points: Multiaddr[], changed: () => void): Promise<Session> {
    const node = await createNode(config, points)
    const session = new Session(node, config, points, changed)
    window.libp2p = node
    session.watch()
    session.reachPoints()
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
      const point = byId.get(id) ?? { id, addresses: [], health: { state: 'connecting' } }
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
    this.listen(rendezvous, 'registration:update', render)
    this.listen(rendezvous, 'peer:update', render)
    this.listen(rendezvous, 'peer:remove', render)
    this.listen(this.node, 'connection:open', render)
    this.listen(this.node, 'connection:close', render)
    this.listen(this.node, 'self:peer:update', () => {
      this.registerIfDue()
      render()
    })
    this.listen(this.node, 'peer:connect', (evt: CustomEvent<PeerId>) => {
      const point = this.point(evt.detail)
      if (point == null) return
      if (point.health.state === 'down') this.registerAgain = true
      point.health = { state: 'connected' }
      this.registerIfDue()
      render()
    })
    // Unregister when the tab is closed or navigated away. The SDK does so on `pagehide`, but in
    // Chromium the page is torn down a few milliseconds later, before a libp2p stream can open
    // (that takes several turns of the event loop); `beforeunload` comes early enough.
    this.listen(window, 'beforeunload', () => {
      this.leaving = true
      this.node.services.rendezvous.unregister(this.namespace).catch(() => {})
    })
    // back from the back/forward cache after that: register again
    this.listen(window, 'pageshow', (evt: PageTransitionEvent) => {
      if (!evt.persisted || !this.leaving) return
      this.leaving = false
      this.node.services.rendezvous.register(this.namespace).catch(() => {})
    })
    this.listen(this.node, 'peer:disconnect', (evt: CustomEvent<PeerId>) => {
      const point = this.point(evt.detail)
      if (point == null || this.stopped) return
      point.health = { state: 'down', error: `Lost the connection to the rendezvous point ${point.addresses[0].toString()}. Trying again…` }
      render()
    })
  }

  private point (peer: PeerId): PointInfo | undefined {
    const id = peer.toString()
    return this.points.find(p => p.id === id)
  }

  /** Dial every point once now, so an unreachable one is reported at once; the SDK keeps retrying on its own */
  private reachPoints (): void {
    for (const point of this.points) {
      this.node.dial(point.addresses, { signal: AbortSignal.timeout(15_000) }).then(() => {
        if (point.health.state !== 'down') point.health = { state: 'connected' }
      }, (err) => {
        if (this.stopped || this.node.getConnections().some(c => c.remotePeer.toString() === point.id)) return
        point.health = { state: 'down', error: describeError(err, { point: point.addresses[0].toString() }) }
      }).finally(() => { this.changed() })
    }
  }

  /**
   * A restarted point has forgotten our registration. The SDK registers again
   * when our addresses change, which covers a point that is also our relay
   * (the reservation goes and comes back with it), but not a point that is
   * only a rendezvous point: then it waits for its next scheduled refresh. So
   * once a point that was down is back and we have an address, register now.
   */
  private registerIfDue (): void {
    if (!this.registerAgain || this.stopped || this.node.getMultiaddrs().length === 0) return
    this.registerAgain = false
    this.node.services.rendezvous.register(this.namespace).catch(() => {
      // the SDK records the failure in the registration state and retries by itself
    })
  }

  addresses (): string[] {
    return this.node.getMultiaddrs().map(ma => ma.toString())
  }

  registrations (): RegistrationView[] {
    const states = this.node.services.rendezvous.getRegistrations().filter(s => s.namespace === this.namespace)
    return this.points.map(point => {
      const base = { point: point.id, address: point.addresses.map(a => a.toString()).join(' ') }
      if (point.health.state === 'down') return { ...base, state: 'error', error: point.health.error }
      const state = states.find(s => s.point.toString() === point.id)
      switch (state?.status) {
        case 'registered':
          return { ...base, state: 'registered', ttl: state.ttl, expiresAt: state.expiresAt, nextRefreshAt: state.refreshAt }
        case 'error':
          return {
            ...base,
            state: 'error',
            error: describeError({ name: state.errorName, message: state.error }, { point: point.addresses[0].toString(), namespace: this.namespace }),
            retryAt: state.retryAt
          }
        case 'waiting-for-addresses':
          return { ...base, state: 'registering', note: 'waiting for a relay slot at the point, to have an address to register' }
        case 'registering':
          return { ...base, state: 'registering', note: 'registering…' }
        default:
          return { ...base, state: 'registering', note: point.health.state === 'connecting' ? 'connecting to the point…' : 'registering…' }
      }
    })
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

  /** The error to show above everything else, if any */
  error (): string | undefined {
    return this.registrations().find(r => r.state === 'error')?.error
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
