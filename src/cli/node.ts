/**
 * The libp2p node of the client mode (TCP for Node peers, WebSockets for
 * browsers, noise, yamux, identify and ping, plus its own services), and
 * what both modes share about listening.
 */
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { isIPv6 } from 'node:net'
import { webSocketGuard } from '../server/point/websocket-guard.ts'
import { UsageError } from './args.ts'
import { CliError, oneLine, withoutStack } from './output.ts'
import type { ListenOptions } from './args.ts'
import type { Identify } from '@libp2p/identify'
import type { Libp2p, ServiceMap } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import type { ServiceFactoryMap } from 'libp2p'

type WithBasics<T extends ServiceMap> = T & { identify: Identify, ping: Ping }
export type CliNode<T extends ServiceMap> = Libp2p<WithBasics<T>>

function ipOf (host: string): string {
  return `/${isIPv6(host) ? 'ip6' : 'ip4'}/${host}`
}

/** A TCP and a WebSocket multiaddr on `host` */
export function listenAddresses ({ host, port, wsPort }: ListenOptions): string[] {
  return [`${ipOf(host)}/tcp/${port}`, `${ipOf(host)}/tcp/${wsPort}/ws`]
}

/** A WebRTC-direct multiaddr on `host` */
export function webRTCDirectAddress (host: string, port: number): string {
  return `${ipOf(host)}/udp/${port}/webrtc-direct`
}

/**
 * `start`'s node, or the reason it cannot listen in words for the command
 * line: libp2p opens with advice for its API users
 * (transportManager.faultTolerance); the CLI user needs the addresses and
 * reasons after it
 */
export async function listening<T> (start: () => Promise<T>): Promise<T> {
  try {
    return await start()
  } catch (err: any) {
    const message = String(err?.message)
    const reasons = message.indexOf(':\n')
    if (err?.name !== 'UnsupportedListenAddressesError' || reasons < 0) throw err
    const lines = withoutStack(message.slice(reasons + 2)).filter(line => line.trim() !== '')
    // "<multiaddr>: Error: listen EADDRINUSE: address already in use 127.0.0.1:4001": the address or port asked for cannot be had
    const refused = lines.map(line => /^\s*(\S+): (?:\w*Error: )?listen (E[A-Z]+): (.*?)(?: \S*\d)?$/.exec(line))
    if (refused.every(match => match != null)) {
      throw new UsageError(`--host/--port/--ws-port: cannot listen on ${refused.map(match => `${match[1]}: ${match[3]} (${match[2]})`).join('; ')}`)
    }
    throw new CliError(`cannot listen: ${oneLine(lines.join('\n'))}`)
  }
}

/** A started node listening where `listen` says, with `services` besides identify and ping */
export async function createNode<T extends ServiceMap> (listen: ListenOptions, services: ServiceFactoryMap<T>): Promise<CliNode<T>> {
  return listening(async () => createLibp2p<WithBasics<T>>({
    addresses: { listen: listenAddresses(listen) },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // the spread loses the link between T and its factories that the compiler needs
    // browsers dial the client's WebSocket address directly; websocket-guard.ts says why it needs guarding
    services: { ...services, identify: identify(), ping: ping(), webSocketGuard: webSocketGuard() } as ServiceFactoryMap<WithBasics<T>>
  }))
}
