/**
 * The libp2p parts a point is built of. They are optional peer dependencies
 * (a browser app that installs the package for its SDK never needs them), so
 * they load when a point is made, and a missing one is named with the
 * command that installs them.
 *
 * A new part of the point (a WebRTC-direct listener's `@libp2p/webrtc`, say)
 * joins this scheme in four places: loaded here, named in `SERVER_PACKAGES`,
 * an optional peer dependency and a dev dependency in package.json (never a
 * dependency: browser apps would install it). The command line's bundle
 * carries it by itself; test/server/optional-dependencies.test.ts checks
 * package.json against `SERVER_PACKAGES`.
 */
import { loadOptional, SERVER_PACKAGES } from '../optional-dependency.ts'

export async function loadPointParts (): Promise<{
  createLibp2p: typeof import('libp2p').createLibp2p
  tcp: typeof import('@libp2p/tcp').tcp
  webSockets: typeof import('@libp2p/websockets').webSockets
  noise: typeof import('@libp2p/noise').noise
  yamux: typeof import('@libp2p/yamux').yamux
  identify: typeof import('@libp2p/identify').identify
  ping: typeof import('@libp2p/ping').ping
  circuitRelayServer: typeof import('@libp2p/circuit-relay-v2').circuitRelayServer
}> {
  return loadOptional('createRendezvousPoint', SERVER_PACKAGES, async () => {
    const [{ createLibp2p }, { tcp }, { webSockets }, { noise }, { yamux }, { identify }, { ping }, { circuitRelayServer }] = await Promise.all([
      import('libp2p'), import('@libp2p/tcp'), import('@libp2p/websockets'), import('@libp2p/noise'),
      import('@libp2p/yamux'), import('@libp2p/identify'), import('@libp2p/ping'), import('@libp2p/circuit-relay-v2')
    ])
    return { createLibp2p, tcp, webSockets, noise, yamux, identify, ping, circuitRelayServer }
  })
}
