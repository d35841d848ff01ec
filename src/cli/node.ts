/**
 * The libp2p node both modes run: TCP for Node peers, WebSockets for
 * browsers, noise, yamux, identify and ping, plus the mode's own services.
 */
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { isIPv6 } from 'node:net'
import { CliError, oneLine } from './output.ts'
import type { ListenOptions } from './args.ts'
import type { Identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey, ServiceMap } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import type { ServiceFactoryMap } from 'libp2p'

type WithBasics<T extends ServiceMap> = T & { identify: Identify, ping: Ping }
export type CliNode<T extends ServiceMap> = Libp2p<WithBasics<T>>

function listenAddresses ({ host, port, wsPort }: ListenOptions): string[] {
  const ip = `/${isIPv6(host) ? 'ip6' : 'ip4'}/${host}`
  return [`${ip}/tcp/${port}`, `${ip}/tcp/${wsPort}/ws`]
}

/** A started node listening where `listen` says, with `services` besides identify and ping, and `privateKey` if given */
export async function createNode<T extends ServiceMap> (listen: ListenOptions, services: ServiceFactoryMap<T>, privateKey?: PrivateKey): Promise<CliNode<T>> {
  try {
    return await createLibp2p<WithBasics<T>>({
      ...(privateKey != null ? { privateKey } : {}),
      addresses: { listen: listenAddresses(listen) },
      transports: [tcp(), webSockets()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      // the spread loses the link between T and its factories that the compiler needs
      services: { ...services, identify: identify(), ping: ping() } as ServiceFactoryMap<WithBasics<T>>
    })
  } catch (err: any) {
    // libp2p opens with advice for its API users (transportManager.faultTolerance); the CLI user needs the addresses and reasons after it
    const message = String(err?.message)
    const reasons = message.indexOf(':\n')
    if (err?.name === 'UnsupportedListenAddressesError' && reasons >= 0) {
      throw new CliError(`cannot listen: ${oneLine(message.slice(reasons + 2))}`)
    }
    throw err
  }
}
