import type { RegistrationStore } from './store/registration-store.ts'
import type { Connection, Libp2pEvents, Logger, PeerId, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'

export interface DeparturesComponents {
  peerId: PeerId
  events: TypedEventTarget<Libp2pEvents>
  connectionManager: ConnectionManager
}

/**
 * Drops the registrations of a peer that can no longer be reached. A peer
 * whose record holds only relay addresses through this point (a browser,
 * typically) is reachable only while it is connected here; once its last
 * connection closes, its registrations point nowhere, so they go at once
 * instead of lingering for their TTL. Only registrations the store marked as
 * relayed through this point go: with a shared store, whatever the peer has
 * registered since through another point, or with an address of its own,
 * stays, in whatever order the events arrive.
 *
 * Components are read when used, never when constructed: libp2p's
 * components object throws for any it does not have.
 */
export class Departures {
  private readonly components: DeparturesComponents
  private readonly store: RegistrationStore
  private readonly now: () => number
  private readonly log: Logger
  /** The drop under way for each peer; an entry leaves when its drop ends, so this holds only peers leaving right now */
  private readonly pending = new Map<string, Promise<void>>()
  private listening = false

  constructor (components: DeparturesComponents, store: RegistrationStore, now: () => number, log: Logger) {
    this.components = components
    this.store = store
    this.now = now
    this.log = log
  }

  start (): void {
    if (this.listening) return
    if (this.store.unregisterRelayed == null) {
      this.log('the store cannot drop the registrations of peers that left; they stay until they expire')
      return
    }
    this.components.events.addEventListener('peer:disconnect', this.onDisconnect)
    this.listening = true
  }

  stop (): void {
    if (!this.listening) return
    this.components.events.removeEventListener('peer:disconnect', this.onDisconnect)
    this.listening = false
  }

  /**
   * Resolves once no drop of the peer's registrations is under way. A
   * REGISTER waits for it before it reaches the store: a peer that comes
   * back on a new connection while its old one is being dropped must not see
   * the drop take its fresh registration with it.
   */
  async settled (peer: PeerId): Promise<void> {
    await this.pending.get(peer.toString())
  }

  /**
   * After a REGISTER: one whose connection closed while it was handled may
   * have reached the store after the drop meant for it, so drop again (the
   * drop does nothing while the peer has another connection).
   */
  registered (connection: Connection): void {
    if (this.listening && connection.status !== 'open') this.leave(connection.remotePeer)
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.leave(evt.detail)
  }

  /** Drop now, or after the drop already under way for this peer */
  private leave (peer: PeerId): void {
    const key = peer.toString()
    const before = this.pending.get(key)
    const drop = before == null ? this.drop(peer) : before.then(async () => this.drop(peer))
    this.pending.set(key, drop)
    void drop.finally(() => {
      if (this.pending.get(key) === drop) this.pending.delete(key)
    })
  }

  /** Never rejects: a failed drop leaves the registrations to their TTL */
  private async drop (peer: PeerId): Promise<void> {
    // checked when the drop starts, not when the event was sent: the peer may be back already
    if (this.components.connectionManager.getConnections(peer).length > 0) return
    try {
      const dropped = await this.store.unregisterRelayed?.(peer.toString(), this.components.peerId.toString(), this.now()) ?? 0
      if (dropped > 0) this.log('%p left; dropped %d registration(s) reachable only through us', peer, dropped)
    } catch (err) {
      this.log.error('dropping the registrations of %p, which left, failed - %e', peer, err)
    }
  }
}
