/**
 * A short wait for the identify a node runs on each new connection, for a
 * request that needs what identify tells (the peer's agent) and may have
 * arrived first: a fast client's first request beats it, at times before
 * identify has even opened its stream.
 *
 * Identify's stream is watched from the connection's opening, so that a peer
 * that refuses identify (it does not speak it) costs nothing: the outcome is
 * known by the time its request arrives. Only an identify still under way, or
 * one that succeeded but whose result has not reached the peer store yet, is
 * waited for.
 */
import type { Connection, IdentifyResult, Libp2pEvents, TypedEventTarget } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'

/** The identify protocol, under any prefix */
const IDENTIFY_PROTOCOL = /\/id\/1\.0\.0$/

export interface IdentifyWaitComponents {
  events?: TypedEventTarget<Libp2pEvents>
  /** Says whether this node runs identify at all */
  registrar?: Pick<Registrar, 'getProtocols'>
}

/**
 * What became of the point's identify of a connection: under way; answered,
 * its result on the way to the peer store; done (in the store, or nothing to
 * wait for)
 */
type Outcome = 'running' | 'answered' | 'done'

export class IdentifyWait {
  private readonly components: IdentifyWaitComponents
  /** Milliseconds from a connection's opening after which nothing waits for its identify any more */
  private readonly window: number
  /** Kept weakly: it goes with its connection */
  private readonly outcomes = new WeakMap<Connection, Outcome>()
  /** One wait per connection, shared by every request that asks; it stays settled */
  private readonly waits = new WeakMap<Connection, Promise<void>>()
  /** How to end each wait in progress, by its connection */
  private readonly ends = new Map<Connection, () => void>()
  private watching = false

  constructor (components: IdentifyWaitComponents, window: number) {
    this.components = components
    this.window = window
  }

  start (): void {
    const { events } = this.components
    if (this.watching || events == null) return
    events.addEventListener('connection:open', this.onOpen)
    events.addEventListener('peer:identify', this.onIdentify)
    this.watching = true
  }

  stop (): void {
    if (!this.watching) return
    this.components.events?.removeEventListener('connection:open', this.onOpen)
    this.components.events?.removeEventListener('peer:identify', this.onIdentify)
    for (const end of [...this.ends.values()]) end()
    this.watching = false
  }

  /**
   * Resolves once the identify of `connection` has an outcome that the peer
   * store shows: the peer is identified, or identify failed, or the
   * connection is older than the window. At once when this node runs no
   * identify, or when identify of this connection is known to have failed.
   */
  async settled (connection: Connection): Promise<void> {
    let wait = this.waits.get(connection)
    if (wait == null) {
      wait = this.wait(connection)
      this.waits.set(connection, wait)
    }
    return wait
  }

  /** Identify opens its stream within the same turn as `connection:open`, its listener having run first */
  private readonly onOpen = (evt: CustomEvent<Connection>): void => {
    const connection = evt.detail
    this.outcomes.set(connection, 'running')
    setTimeout(() => {
      const stream = connection.streams.find(s => s.direction === 'outbound' && (s.protocol === '' || IDENTIFY_PROTOCOL.test(s.protocol)))
      if (stream == null || stream.status !== 'open') {
        this.settle(connection, 'done')
        return
      }
      stream.addEventListener('close', () => { this.settle(connection, stream.status === 'closed' ? 'answered' : 'done') }, { once: true })
    }, 0)
  }

  private settle (connection: Connection, outcome: Outcome): void {
    // `peer:identify` may come before the stream's close event, and settles it for good
    if (this.outcomes.get(connection) === 'done') return
    this.outcomes.set(connection, outcome)
    // answered: its result reaches the peer store, and `peer:identify` follows
    if (outcome === 'done') this.ends.get(connection)?.()
  }

  private async wait (connection: Connection): Promise<void> {
    const { registrar } = this.components
    if (!this.watching || registrar == null || !registrar.getProtocols().some(protocol => IDENTIFY_PROTOCOL.test(protocol))) return
    // opened before we watched, refused, or in the store already: nothing more is coming
    const outcome = this.outcomes.get(connection)
    if (outcome == null || outcome === 'done') return
    const left = connection.timeline.open + this.window - Date.now()
    if (left <= 0) return

    await new Promise<void>(resolve => {
      const end = (): void => {
        if (this.ends.get(connection) !== end) return
        clearTimeout(timer)
        this.ends.delete(connection)
        connection.removeEventListener('close', end)
        resolve()
      }
      const timer = setTimeout(end, left)
      this.ends.set(connection, end)
      connection.addEventListener('close', end)
    })
  }

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    this.settle(evt.detail.connection, 'done')
  }
}
