/**
 * A browser tab running the SDK, played by Node: WebSockets and the
 * circuit-relay transport only, so it has no socket of its own to listen on
 * and its only address is a reservation at the point's relay, exactly as in
 * a browser. It records when each step of joining a crowd happened, and which
 * members of the crowd (the roster) it has found.
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { rendezvousDiscovery } from '../../src/index.ts'
import type { RendezvousDiscovery } from '../../src/index.ts'
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export type BrowserNode = Libp2p<{ rendezvous: RendezvousDiscovery }>

/** Milliseconds since the epoch, to the fraction: comparable between processes on one machine */
export function now (): number {
  return performance.timeOrigin + performance.now()
}

/** The moments a peer reached each step, as milliseconds since the epoch */
export interface PeerProgress {
  startedAt?: number
  /** Its first address through the point's relay */
  addressAt?: number
  /** The point first accepted its registration */
  registeredAt?: number
  /** It is connected to the point now */
  connected: boolean
  /** Connections it has had with other peers, either way, all through the relay */
  peerConnections: number
  /** Connections to the point that closed, and why the last one did */
  dropped: number
  lastDrop?: string
  /** Requests to the point (dials included) that failed, and how the last one did */
  failures: number
  lastFailure?: string
}

/**
 * A browser app's libp2p node with the SDK, not started yet. A `walker`
 * registers in `namespace` and polls it, the way an app that lists its peers
 * does (`namespaces`); any other peer only registers there, once started
 * (see `start`), like an app that only wants to be found.
 */
export async function browserNode (point: Multiaddr, namespace: string, walker: boolean): Promise<BrowserNode> {
  return createLibp2p({
    start: false,
    // a reservation at the point's relay is this node's only address
    addresses: { listen: ['/p2p-circuit'] },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      rendezvous: rendezvousDiscovery({ points: [point], namespaces: walker ? [namespace] : [] })
    }
  })
}

export class BrowserPeer {
  readonly node: BrowserNode
  readonly id: string
  readonly progress: PeerProgress = { connected: false, peerConnections: 0, dropped: 0, failures: 0 }
  /** When this peer first found each member of the roster, by roster index */
  private readonly foundAt = new Map<number, number>()

  constructor (node: BrowserNode, private readonly point: Multiaddr, private readonly namespace: string, readonly walker: boolean) {
    this.node = node
    this.id = node.peerId.toString()
  }

  static async create (point: Multiaddr, namespace: string, walker: boolean): Promise<BrowserPeer> {
    return new BrowserPeer(await browserNode(point, namespace, walker), point, namespace, walker)
  }

  /** Start, noting the members of `roster` (peer id → index) it finds */
  async start (roster: Map<string, number>): Promise<void> {
    const { node, progress } = this
    const pointId = this.point.getComponents().findLast(c => c.name === 'p2p')?.value
    // libp2p debounces self:peer:update by a second; a new listener (the reservation) is told at once
    const onAddresses = (): void => {
      if (progress.addressAt == null && node.getMultiaddrs().some(ma => ma.toString().includes('/p2p-circuit'))) progress.addressAt = now()
    }
    node.addEventListener('transport:listening', onAddresses)
    node.addEventListener('self:peer:update', onAddresses)
    node.addEventListener('peer:connect', evt => {
      if (evt.detail.toString() === pointId) progress.connected = true
      else progress.peerConnections++
    })
    node.addEventListener('connection:open', evt => {
      if (evt.detail.remotePeer.toString() !== pointId) return
      evt.detail.addEventListener('close', (closed: any) => {
        progress.dropped++
        progress.lastDrop = `${closed.local === true ? 'local' : 'remote'}: ${closed.error?.name ?? 'closed'} ${closed.error?.message ?? ''}`.trim()
      })
    })
    node.addEventListener('peer:disconnect', evt => { if (evt.detail.toString() === pointId) progress.connected = false })
    node.services.rendezvous.addEventListener('registration:update', evt => {
      if (progress.registeredAt == null && evt.detail.status === 'registered') progress.registeredAt = now()
    })
    node.services.rendezvous.addEventListener('point:update', evt => {
      if (evt.detail.status !== 'error') return
      progress.failures++
      progress.lastFailure = `${evt.detail.errorName ?? 'Error'}: ${evt.detail.error ?? ''}`
    })
    node.services.rendezvous.addEventListener('peer:update', evt => {
      if (evt.detail.namespace !== this.namespace) return
      const index = roster.get(evt.detail.peer.id.toString())
      if (index == null || this.foundAt.has(index)) return
      this.foundAt.set(index, now())
    })
    progress.startedAt = now()
    await node.start()
    if (!this.walker) {
      // before its relay reservation this rejects (NoAddressesError) and the SDK registers once it has one
      node.services.rendezvous.register(this.namespace).catch(() => {})
    }
  }

  /** Roster index and time of every member of the roster it has found */
  get found (): ReadonlyMap<number, number> {
    return this.foundAt
  }

  /** When it had found every member of `wanted` (itself aside), or undefined while it has not */
  completeAt (wanted: Iterable<number>, self: number): number | undefined {
    let latest = 0
    for (const index of wanted) {
      if (index === self) continue
      const at = this.foundAt.get(index)
      if (at == null) return undefined
      latest = Math.max(latest, at)
    }
    return latest
  }

  async stop (): Promise<void> {
    await this.node.stop()
  }
}
