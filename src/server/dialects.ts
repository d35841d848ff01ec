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
 *    point's identify of a new connection (a fast client's first one does,
 *    at times before identify has even opened its stream), so in a
 *    connection's first moments a DISCOVER waits for that identify;
 * 3. otherwise, the spec.
 * What a connection said is kept per connection, weakly: it goes when the
 * connection goes, so the point holds nothing for peers that have left.
 */
import { raceSignal } from 'race-signal'
import { second } from '../constants.ts'
import { IdentifyWait } from './identify-wait.ts'
import type { IdentifyWaitComponents } from './identify-wait.ts'
import type { Request, SubscribeRequest } from '../protocol/messages.ts'
import type { Schema } from '../protocol/peer-info.ts'
import type { AbortOptions, Connection, PeerStore } from '@libp2p/interface'

/** Agents that speak only the pre-2020 schema, as identify announces them */
const PEER_INFO_AGENTS = [/^py-libp2p\//]

/** Milliseconds from a connection's opening during which a DISCOVER may wait for the point's identify of its peer */
export const IDENTIFY_WAIT = 2 * second

export interface DialectsComponents extends IdentifyWaitComponents {
  /** Where identify leaves the agent of each peer; without it, agents are not consulted */
  peerStore?: PeerStore
}

const decoder = new TextDecoder()

export class Dialects {
  private readonly components: DialectsComponents
  private readonly spoken = new WeakMap<Connection, Schema>()
  /** What the agent of each connection's peer says, once known: it does not change, so it is looked up once */
  private readonly byAgent = new WeakMap<Connection, Schema>()
  private readonly identify: IdentifyWait

  constructor (components: DialectsComponents) {
    this.components = components
    this.identify = new IdentifyWait(components, IDENTIFY_WAIT)
  }

  start (): void {
    this.identify.start()
  }

  stop (): void {
    this.identify.stop()
  }

  /**
   * Note what `request` shows of the schema its connection speaks, and say
   * the schema it is in (REGISTER) or is to be answered in, when that takes
   * no look-up; undefined when it does (see `lookUp`). Most requests are
   * settled here, without a turn of the event loop.
   */
  heard (request: Request | SubscribeRequest, connection: Connection): Schema | undefined {
    if (request.type === 'REGISTER' && request.record != null) {
      this.spoken.set(connection, request.record.kind === 'envelope' ? 'signed-record' : 'peer-info')
    } else if (request.type === 'DISCOVER_SUBSCRIBE') {
      this.spoken.set(connection, 'peer-info')
    }
    const known = this.spoken.get(connection) ?? this.byAgent.get(connection)
    // only a DISCOVER's answer depends on it; nothing else is worth a look-up, nor is anything without a peer store
    if (known != null || request.type !== 'DISCOVER' || this.components.peerStore == null) return known ?? 'signed-record'
    return undefined
  }

  /** The schema to answer a DISCOVER in when `heard` could not say: by the agent of the connection's peer */
  async lookUp (connection: Connection, options: AbortOptions = {}): Promise<Schema> {
    let agent = await this.agent(connection)
    if (agent == null) {
      // the request's own deadline bounds the wait too
      await raceSignal(this.identify.settled(connection), options.signal)
      agent = await this.agent(connection)
    }
    if (agent == null) return 'signed-record'
    const schema = PEER_INFO_AGENTS.some(pattern => pattern.test(agent)) ? 'peer-info' : 'signed-record'
    this.byAgent.set(connection, schema)
    return schema
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
}
