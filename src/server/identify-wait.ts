/**
 * A short wait for the identify a node runs on each new connection, for a
 * request that needs what identify tells (the peer's agent) and may have
 * arrived first: a fast client's first request beats it, at times before
 * identify has even opened its stream.
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

export class IdentifyWait {
  private readonly components: IdentifyWaitComponents
  /** Milliseconds from a connection's opening after which nothing waits for its identify any more */
  private readonly window: number
  /** One wait per connection, shared by every request that asks; it stays settled */
  private readonly waits = new WeakMap<Connection, Promise<void>>()
  /** How to end each wait in progress, by its connection */
  private readonly ends = new Map<Connection, () => void>()

  constructor (components: IdentifyWaitComponents, window: number) {
    this.components = components
    this.window = window
  }

  /**
   * Resolves once the identify of `connection` has an outcome: the peer is
   * identified, or the stream identify was negotiating failed (the peer
   * does not speak it), or the connection is older than the window. At once
   * when this node runs no identify, or the window is over already. So a
   * peer without identify waits once, in its connection's first moments,
   * unless its failure shows first; every libp2p implementation runs it.
   */
  async settled (connection: Connection): Promise<void> {
    let wait = this.waits.get(connection)
    if (wait == null) {
      wait = this.wait(connection)
      this.waits.set(connection, wait)
    }
    return wait
  }

  private async wait (connection: Connection): Promise<void> {
    const { events, registrar } = this.components
    if (events == null || registrar == null || !registrar.getProtocols().some(protocol => IDENTIFY_PROTOCOL.test(protocol))) return
    const left = connection.timeline.open + this.window - Date.now()
    if (left <= 0) return
    // identify's stream, if it has one yet: still negotiating ('' protocol) or negotiated
    const candidates = connection.streams.filter(s => s.direction === 'outbound' && s.status === 'open' && (s.protocol === '' || IDENTIFY_PROTOCOL.test(s.protocol)))

    await new Promise<void>(resolve => {
      const end = (): void => {
        if (this.ends.get(connection) !== end) return
        clearTimeout(timer)
        this.ends.delete(connection)
        if (this.ends.size === 0) events.removeEventListener('peer:identify', this.onIdentify)
        candidates.forEach(stream => { stream.removeEventListener('close', onClose) })
        connection.removeEventListener('close', end)
        resolve()
      }
      // a stream that closed cleanly may have been identify's, whose result follows it; one that failed was no answer
      const onClose = (): void => {
        if (candidates.every(s => s.status !== 'open' && s.status !== 'closed')) end()
      }
      const timer = setTimeout(end, left)
      // one listener for every wait in progress, there only while one is
      if (this.ends.size === 0) events.addEventListener('peer:identify', this.onIdentify)
      this.ends.set(connection, end)
      candidates.forEach(stream => { stream.addEventListener('close', onClose) })
      connection.addEventListener('close', end)
    })
  }

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    this.ends.get(evt.detail.connection)?.()
  }
}
