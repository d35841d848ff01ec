/**
 * A whole rendezvous point in one call: a libp2p node on TCP (for Node peers),
 * WebSockets and WebRTC-direct (for browsers), with noise, yamux, identify, ping, a
 * circuit-relay-v2 server (browsers cannot listen, so a reservation here is
 * the address they register) and the rendezvous service, every limit sized
 * for a crowd of browsers. The `libp2p-rendezvous --mode server` command runs
 * exactly this.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { InvalidParametersError } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { CODE_P2P, multiaddr } from '@multiformats/multiaddr'
import { HostLimits } from './host-limits.ts'
import { loadOrCreateKey } from './key-file.ts'
import { resolveLimits } from './limits.ts'
import { loadPointParts } from './parts.ts'
import { PointService } from './point-service.ts'
import { isWebRTCDirect, webRTCDirectAvailable, webRTCDirectTransport } from './webrtc-direct.ts'
import { RendezvousPoint } from '../rendezvous-server.ts'
import type { RendezvousPointLimits } from './limits.ts'
import type { PointServiceComponents, RendezvousPointService } from './point-service.ts'
import type { RendezvousServer, RendezvousServerComponents, RendezvousServerInit } from '../rendezvous-server.ts'
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2'
import type { Identify } from '@libp2p/identify'
import type { ComponentLogger, Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import type { Ping, PingInit } from '@libp2p/ping'
import type { Multiaddr } from '@multiformats/multiaddr'

export { DEFAULT_LIMITS } from './limits.ts'
export { KeyFileError, loadOrCreateKey } from './key-file.ts'
export { webSocketGuard } from './websocket-guard.ts'
export { MissingDependencyError } from '../optional-dependency.ts'
export type { PointLimits, RendezvousPointLimits } from './limits.ts'
export type { RendezvousPointService, RendezvousPointStats } from './point-service.ts'

export interface RendezvousPointInit {
  /**
   * Multiaddrs to listen on: TCP ones for Node peers, `/ws` ones for
   * browsers (put TLS in front of those: see docs/deploy.md), and
   * `/udp/<port>/webrtc-direct` ones, which browsers dial without a TLS
   * certificate; those need the optional package `@libp2p/webrtc`
   * (`MissingDependencyError` without it). The WebRTC-direct certificate is
   * derived from the point's key, so with `keyFile` its certhash, and so the
   * address, survives restarts.
   *
   * @default ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws', '/ip4/127.0.0.1/udp/0/webrtc-direct'], the last when `@libp2p/webrtc` is installed
   */
  listen?: string[]
  /**
   * The addresses peers are told (by identify) instead of the listen
   * addresses, for a point behind a reverse proxy or a NAT, e.g.
   * `/dns4/rdv.example.com/tcp/443/wss`. Relay reservations carry them, so
   * browsers' relay addresses are built on them too. A WebRTC-direct one
   * (`/ip4/203.0.113.5/udp/4003/webrtc-direct`) gets the point's
   * `/certhash/` added.
   *
   * @default the listen addresses
   */
  announce?: Array<string | Multiaddr>
  /** The point's identity. @default a new Ed25519 key, unless `keyFile` is given */
  privateKey?: PrivateKey
  /**
   * Where the point's key is kept, so that it keeps its peer id across
   * restarts; created (mode 0600) when missing. Not with `privateKey`.
   */
  keyFile?: string
  /** Connection, handshake and relay limits; each left out takes its default (`DEFAULT_LIMITS`) */
  limits?: RendezvousPointLimits
  /** The rendezvous service: TTLs, registration limits, the store */
  rendezvous?: RendezvousServerInit
  /** libp2p's ping, which also answers the connection monitors of the point's peers */
  ping?: PingInit
  /** @default libp2p's `defaultLogger()` */
  logger?: ComponentLogger
}

/** `node.services` of a point (a type, not an interface, so that it is a libp2p `ServiceMap`) */
export type RendezvousPointServices = {
  identify: Identify
  ping: Ping
  relay: CircuitRelayService
  rendezvous: RendezvousServer
  point: RendezvousPointService
}

/** A started libp2p node that is a rendezvous point */
export type RendezvousPointNode = Libp2p<RendezvousPointServices>

const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws']
const DEFAULT_WEBRTC_DIRECT = '/ip4/127.0.0.1/udp/0/webrtc-direct'

async function defaultListen (): Promise<string[]> {
  return await webRTCDirectAvailable() ? [...DEFAULT_LISTEN, DEFAULT_WEBRTC_DIRECT] : DEFAULT_LISTEN
}

/** The announce addresses, without our own /p2p/ (libp2p adds it); another peer's id is an error */
function announceAddresses (announce: Array<string | Multiaddr>, self: PeerId): Multiaddr[] {
  return announce.map(address => {
    let ma: Multiaddr
    try {
      ma = multiaddr(address)
    } catch (err: any) {
      throw new InvalidParametersError(`announce: "${String(address)}" is not a multiaddr (${err?.message ?? err})`)
    }
    const id = ma.getComponents().findLast(c => c.code === CODE_P2P)?.value
    if (id != null && id !== self.toString()) {
      throw new InvalidParametersError(`announce: ${ma.toString()} names peer ${id}, not this point (${self.toString()})`)
    }
    return id == null ? ma : ma.decapsulateCode(CODE_P2P)
  })
}

/**
 * Create and start a rendezvous point.
 *
 * @throws InvalidParametersError for a bad limit, TTL or announce address;
 * KeyFileError when `keyFile` cannot be read or written;
 * MissingDependencyError when libp2p or one of its parts is not installed, or
 * for a WebRTC-direct listen address without `@libp2p/webrtc`; libp2p's
 * UnsupportedListenAddressesError when it cannot listen
 */
export async function createRendezvousPoint (init: RendezvousPointInit = {}): Promise<RendezvousPointNode> {
  if (init.privateKey != null && init.keyFile != null) {
    throw new InvalidParametersError('give privateKey or keyFile, not both')
  }
  const limits = resolveLimits(init.limits)
  const { createLibp2p, tcp, webSockets, noise, yamux, identify, ping, circuitRelayServer } = await loadPointParts()
  const privateKey = init.privateKey ?? (init.keyFile != null ? await loadOrCreateKey(init.keyFile) : await generateKeyPair('Ed25519'))
  const announce = announceAddresses(init.announce ?? [], peerIdFromPrivateKey(privateKey))
  const logger = init.logger ?? defaultLogger()
  const hostLimits = new HostLimits({
    maxConnectionsPerHost: limits.maxConnectionsPerHost,
    // one host must never hold every handshake slot
    maxPendingPerHost: Math.max(1, Math.floor(limits.maxPendingConnections / 2)),
    log: logger.forComponent('libp2p:rendezvous:point:hosts')
  })
  const listen = init.listen ?? await defaultListen()
  const webRTCDirect = listen.filter(isWebRTCDirect)

  return createLibp2p<RendezvousPointServices>({
    privateKey,
    logger,
    addresses: { listen, announce: announce.map(String) },
    transports: [tcp(), webSockets(), ...(webRTCDirect.length > 0 ? [await webRTCDirectTransport(privateKey, webRTCDirect)] : [])],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: hostLimits,
    connectionManager: {
      maxConnections: limits.maxConnections,
      inboundConnectionThreshold: limits.maxConnectionRatePerHost,
      maxIncomingPendingConnections: limits.maxPendingConnections
    },
    services: {
      identify: identify(),
      ping: ping(init.ping),
      relay: circuitRelayServer({
        maxInboundHopStreams: limits.maxRelayedConnectionsPerPeer,
        maxOutboundStopStreams: limits.maxRelayedConnectionsPerPeer,
        reservations: {
          maxReservations: limits.maxReservations,
          defaultDataLimit: BigInt(limits.relayDataLimit),
          defaultDurationLimit: limits.relayDurationLimit
        }
      }),
      // the service itself, as rendezvousServer() makes it (importing that factory would make a cycle)
      rendezvous: (components: RendezvousServerComponents) => new RendezvousPoint(components, init.rendezvous),
      point: (components: PointServiceComponents) => new PointService(components, limits)
    }
  })
}
