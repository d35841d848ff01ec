/**
 * The limits of a whole point: how many peers it holds, how fast one host may
 * connect, and what its circuit relay lets through. libp2p's and
 * circuit-relay-v2's own defaults suit a node with a few dozen peers (15
 * relay reservations, 5 new connections a second per host); a rendezvous
 * point for browsers holds a relay reservation for every tab, and behind a
 * NAT or a reverse proxy a whole crowd shares one address.
 */
import { InvalidParametersError } from '@libp2p/interface'
import { minute } from '../../constants.ts'

export interface RendezvousPointLimits {
  /**
   * Connections held at once, inbound and outbound (libp2p's `maxConnections`).
   * A new inbound connection over it is refused before its handshake.
   *
   * @default 2048
   */
  maxConnections?: number
  /**
   * Connections from one host held at once, including those still in their
   * handshake. A host is an IPv4 address or an IPv6 /64 (one subscriber's
   * network). One host may also hold at most half of `maxPendingConnections`
   * in their handshake.
   *
   * @default 1024
   */
  maxConnectionsPerHost?: number
  /**
   * New inbound connections one host may open per second (libp2p's
   * `inboundConnectionThreshold`); the rest of that second's are refused.
   *
   * @default 256
   */
  maxConnectionRatePerHost?: number
  /**
   * Inbound connections in their handshake at once (libp2p's
   * `maxIncomingPendingConnections`); more are refused until one completes.
   *
   * @default 256
   */
  maxPendingConnections?: number
  /**
   * circuit-relay-v2 reservations held at once: every browser needs one to
   * have an address. Over it a RESERVE is answered RESERVATION_REFUSED. A
   * reservation ends when its peer disconnects.
   *
   * @default 2048
   */
  maxReservations?: number
  /**
   * Relayed connections one peer may have through the point at once, each
   * way (hop streams it opens, stop streams the point opens to it). Over
   * it the new relayed connection is reset.
   *
   * @default 64
   */
  maxRelayedConnectionsPerPeer?: number
  /**
   * Bytes one relayed connection may carry, both directions together; over
   * it the relayed connection is reset. Enough for identify, pings and
   * WebRTC signalling; an app that streams data upgrades to a direct
   * connection.
   *
   * @default 131072 (128 KiB)
   */
  relayDataLimit?: number
  /**
   * Milliseconds one relayed connection may stay open; then it is reset.
   *
   * @default 120000 (2 min)
   */
  relayDurationLimit?: number
  /**
   * Bytes of the largest WebSocket message the point reads; a peer that
   * sends a larger one is disconnected (close code 1009). The WebSocket
   * server buffers a whole message before libp2p sees it, 100 MiB by
   * default. Keep it above `relayDataLimit`.
   *
   * @default 1048576 (1 MiB)
   */
  maxWebSocketMessageSize?: number
}

/** Every limit, resolved */
export type PointLimits = Required<RendezvousPointLimits>

export const DEFAULT_LIMITS: Readonly<PointLimits> = Object.freeze({
  maxConnections: 2048,
  maxConnectionsPerHost: 1024,
  maxConnectionRatePerHost: 256,
  maxPendingConnections: 256,
  maxReservations: 2048,
  maxRelayedConnectionsPerPeer: 64,
  relayDataLimit: 128 * 1024,
  relayDurationLimit: 2 * minute,
  maxWebSocketMessageSize: 1024 * 1024
})

/** `limits` over the defaults; throws InvalidParametersError for a limit that is not a whole number of at least 1 */
export function resolveLimits (limits: RendezvousPointLimits = {}): PointLimits {
  const resolved: PointLimits = { ...DEFAULT_LIMITS }
  for (const name of Object.keys(DEFAULT_LIMITS) as Array<keyof PointLimits>) {
    const value = limits[name]
    if (value === undefined) continue
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new InvalidParametersError(`limits.${name} must be a whole number of at least 1, not ${String(value)}`)
    }
    resolved[name] = value
  }
  return resolved
}
