/** What the connection-time page and its Node driver exchange through `page.evaluate` */

export interface PairInit {
  /** The point's multiaddr, with /p2p/<id> */
  point: string
  namespace: string
}

/** How the dialer reaches the peer it discovered */
export type ConnectKind = 'relayed' | 'direct'

export interface ConnectResult {
  /** Milliseconds from the `peer` event that brought the target to the dial's open connection */
  ms: number
  /** The connection libp2p handed back is direct (not through the relay) */
  direct: boolean
}

export interface ConnectBenchApi {
  /** Start a node that registers in the namespace; resolves with its peer id once registered */
  listen(init: PairInit): Promise<string>
  /** Start a node that discovers the namespace and, on the `peer` event for `target`, dials it */
  connect(init: PairInit & { target: string, kind: ConnectKind }): Promise<ConnectResult>
}
