/**
 * The part of a point that sees the whole node: where it listens, the
 * numbers an operator watches, its WebSocket listeners (see
 * websocket-guard.ts), and the end of a relay reservation when its peer
 * goes. circuit-relay-v2 keeps a reservation for its whole TTL (2 h) even
 * after the peer disconnected, so a point that browsers keep coming to and
 * leaving would run out of reservations long before it runs out of anything
 * else.
 */
import { serviceCapabilities } from '@libp2p/interface'
import { guardWebSocketListeners } from './websocket-guard.ts'
import type { PointLimits } from './limits.ts'
import type { RendezvousServer } from '../rendezvous-server.ts'
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2'
import type { ComponentLogger, Libp2pEvents, Logger, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager, TransportManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface RendezvousPointStats {
  /** Open connections, to browsers and other peers */
  connections: number
  /** Relay reservations held: peers that have an address through this point */
  reservations: number
  /** Unexpired registrations per namespace */
  namespaces: Map<string, number>
}

/** `node.services.point` of a node made by `createRendezvousPoint` */
export interface RendezvousPointService {
  /** The limits in force */
  readonly limits: Readonly<PointLimits>
  /** Where the node listens; what it tells peers is `node.getMultiaddrs()` (the announced addresses, when there are any) */
  getListenAddrs(): Multiaddr[]
  getStats(): Promise<RendezvousPointStats>
}

export interface PointServiceComponents {
  transportManager: TransportManager
  connectionManager: ConnectionManager
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
  relay: CircuitRelayService
  rendezvous: RendezvousServer
}

export class PointService implements RendezvousPointService, Startable {
  readonly [Symbol.toStringTag] = 'libp2p-rendezvous:point'
  readonly [serviceCapabilities]: string[] = ['@libp2p/rendezvous-point']
  readonly limits: Readonly<PointLimits>

  private readonly components: PointServiceComponents
  private readonly log: Logger
  private started = false

  constructor (components: PointServiceComponents, limits: PointLimits) {
    // components is a proxy that throws for services not configured yet: read it lazily
    this.components = components
    this.limits = Object.freeze({ ...limits })
    this.log = components.logger.forComponent('libp2p:rendezvous:point')
  }

  isStarted (): boolean {
    return this.started
  }

  start (): void {
    if (this.started) return
    this.components.events.addEventListener('peer:disconnect', this.onDisconnect)
    this.started = true
  }

  afterStart (): void {
    // the transports listen by now
    guardWebSocketListeners(this.components.transportManager.getListeners(), this.limits.maxWebSocketMessageSize, this.log)
  }

  stop (): void {
    this.components.events.removeEventListener('peer:disconnect', this.onDisconnect)
    this.started = false
  }

  getListenAddrs (): Multiaddr[] {
    return this.components.transportManager.getAddrs()
  }

  async getStats (): Promise<RendezvousPointStats> {
    return {
      connections: this.components.connectionManager.getConnections().length,
      reservations: this.components.relay.reservations.size,
      namespaces: await this.components.rendezvous.getNamespaceStats()
    }
  }

  /** The peer's last connection closed: nobody can reach it through us any more */
  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail
    const reservations = this.components.relay.reservations
    const reservation = reservations.get(peer)
    if (reservation == null) return
    reservations.delete(peer)
    // fire the reservation's timer now rather than hours later: that ends every relayed connection still
    // open to the peer, and a timer left running would remove whatever reservation the peer holds when it
    // fires, a newer one too; now it fires before the peer can have come back (a new connection and a handshake)
    reservation.signal.reset(0)
    this.log('ended the relay reservation of %p, which disconnected', peer)
  }
}
