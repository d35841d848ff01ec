/**
 * Which of the two schemas on `/rendezvous/1.0.0` a connection's peer reads
 * (see protocol/peer-info.ts), so that DISCOVER answers it in that one.
 *
 * Nothing in a DISCOVER tells them apart: py-libp2p's is byte for byte what
 * a spec client sends (captured from py-libp2p 0.7: type, namespace and a
 * limit of 100, `08 03 2a 08 0a 04 64 65 6d 6f 10 64`), and an answer in the
 * wrong schema breaks the client: py's discover raises on the first signed
 * record, rust's drops the whole page over one PeerInfo. So the point goes by
 * what it knows, most telling first:
 * 1. what the connection itself has sent: a REGISTER with a PeerInfo, or a
 *    DISCOVER_SUBSCRIBE, comes from a pre-2020 client; a REGISTER with an
 *    envelope from a spec one. The last of them counts;
 * 2. the agent the peer announced in identify: py-libp2p, every release to
 *    date, speaks only the pre-2020 schema, so a py client that only
 *    discovers is still answered in PeerInfo. A DISCOVER can beat the
 *    point's identify of a new connection (a fast client's first one does),
 *    so while that identify is still running, the DISCOVER waits for it;
 * 3. otherwise, the spec.
 * What a connection said is kept per connection, weakly: it goes when the
 * connection goes, so the point holds nothing for peers that have left.
 */
import { second } from '../constants.ts'
import type { Request, SubscribeRequest } from '../protocol/messages.ts'
import type { Schema } from '../protocol/peer-info.ts'
import type { AbortOptions, Connection, IdentifyResult, Libp2pEvents, PeerStore, Stream, TypedEventTarget } from '@libp2p/interface'

/** Agents that speak only the pre-2020 schema, as identify announces them */
const PEER_INFO_AGENTS = [/^py-libp2p\//]

/** The identify protocol, under any prefix */
const IDENTIFY_PROTOCOL = /\/id\/1\.0\.0$/

/** Milliseconds a DISCOVER waits at most for the point's identify of its peer */
export const IDENTIFY_WAIT = 2 * second

export interface DialectsComponents {
  /** Where identify leaves the agent of each peer; without it, agents are not consulted */
  peerStore?: PeerStore
  events?: TypedEventTarget<Libp2pEvents>
}

const decoder = new TextDecoder()

export class Dialects {
  private readonly components: DialectsComponents
  private readonly spoken = new WeakMap<Connection, Schema>()
  /** Connections whose identify a DISCOVER has waited for already: once is enough */
  private readonly waited = new WeakSet<Connection>()

  constructor (components: DialectsComponents) {
    this.components = components
  }

  /**
   * Note what `request` shows of the schema its connection speaks, and
   * resolve with the schema it is in (REGISTER) or is to be answered in
   */
  async schemaOf (request: Request | SubscribeRequest, connection: Connection, options: AbortOptions = {}): Promise<Schema> {
    if (request.type === 'REGISTER' && request.record != null) {
      this.spoken.set(connection, request.record.kind === 'envelope' ? 'signed-record' : 'peer-info')
    } else if (request.type === 'DISCOVER_SUBSCRIBE') {
      this.spoken.set(connection, 'peer-info')
    }
    // only a DISCOVER's answer depends on it; nothing else is worth a look-up
    return request.type === 'DISCOVER' ? this.of(connection, options) : this.spoken.get(connection) ?? 'signed-record'
  }

  /** The schema to answer the connection's peer in */
  private async of (connection: Connection, options: AbortOptions): Promise<Schema> {
    const spoken = this.spoken.get(connection)
    if (spoken != null) return spoken
    let agent = await this.agent(connection)
    if (agent == null && !this.waited.has(connection)) {
      this.waited.add(connection)
      await this.identified(connection, options)
      agent = await this.agent(connection)
    }
    return agent != null && PEER_INFO_AGENTS.some(pattern => pattern.test(agent)) ? 'peer-info' : 'signed-record'
  }

  private async agent (connection: Connection): Promise<string | undefined> {
    try {
      const agent = (await this.components.peerStore?.get(connection.remotePeer))?.metadata.get('AgentVersion')
      return agent == null ? undefined : decoder.decode(agent)
    } catch {
      // a peer the store has never seen
      return undefined
    }
  }

  /**
   * Resolves once the identify the point runs on `connection` has an
   * outcome: the peer is identified, or every stream it could be running on
   * failed (the peer does not speak identify), or IDENTIFY_WAIT is up. At
   * once when no such stream is open: identify has finished, or the point
   * does not run it.
   */
  private async identified (connection: Connection, options: AbortOptions): Promise<void> {
    const { events } = this.components
    if (events == null) return
    // an outbound stream still negotiating ('' protocol) may be identify's
    const candidates = connection.streams.filter(s => s.direction === 'outbound' && s.status === 'open' && (s.protocol === '' || IDENTIFY_PROTOCOL.test(s.protocol)))
    if (candidates.length === 0) return

    const signal = AbortSignal.any([AbortSignal.timeout(IDENTIFY_WAIT), ...(options.signal != null ? [options.signal] : [])])
    await new Promise<void>(resolve => {
      const done = (): void => {
        events.removeEventListener('peer:identify', onIdentify)
        candidates.forEach(stream => { stream.removeEventListener('close', onClose) })
        signal.removeEventListener('abort', done)
        resolve()
      }
      const onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
        if (evt.detail.connection === connection) done()
      }
      // a stream that closed cleanly may have been identify's, whose result follows it; one that failed was no answer
      const onClose = (): void => {
        if (candidates.every((s: Stream) => s.status !== 'open' && s.status !== 'closed')) done()
      }
      events.addEventListener('peer:identify', onIdentify)
      candidates.forEach(stream => { stream.addEventListener('close', onClose) })
      signal.addEventListener('abort', done)
      if (signal.aborted) done()
    })
  }
}
