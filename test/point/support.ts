/**
 * What the tests of the whole point need: points made by the real factory,
 * browser-shaped peers (WebSockets and the circuit-relay transport only,
 * listening on `/p2p-circuit`, as a browser tab's node), plain dialers, raw
 * sockets from chosen loopback addresses (Linux routes all of 127.0.0.0/8 to
 * loopback, so 127.0.0.2 is another host to the point), and raw
 * circuit-relay-v2 HOP requests. Everything made here is stopped by
 * `cleanUp()`.
 */
import { connect } from 'node:net'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { CODE_P2P_CIRCUIT } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { createRendezvousPoint } from '../../src/server/index.ts'
import { body, fieldValue, varintField } from '../fixtures/wire.ts'
import { isPlainTcp } from '../fixtures/addresses.ts'
import type { RendezvousPointInit, RendezvousPointNode } from '../../src/server/index.ts'
import type { Identify } from '@libp2p/identify'
import type { Libp2p, ServiceMap } from '@libp2p/interface'
import type { ServiceFactoryMap } from 'libp2p'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Socket } from 'node:net'

const nodes: Libp2p[] = []
const sockets: Socket[] = []

export async function cleanUp (): Promise<void> {
  for (const socket of sockets.splice(0)) socket.destroy()
  // peers before points: a peer whose point went first waits out a close timeout on its socket
  for (const node of nodes.splice(0).reverse()) await node.stop()
}

export async function startPoint (init: RendezvousPointInit = {}): Promise<RendezvousPointNode> {
  const node = await createRendezvousPoint(init)
  nodes.push(node)
  return node
}

export function tcpAddress (point: RendezvousPointNode): Multiaddr {
  const address = point.getMultiaddrs().find(ma => isPlainTcp(ma.toString()))
  if (address == null) throw new Error('the point has no TCP address')
  return address
}

export function wsAddress (point: RendezvousPointNode): Multiaddr {
  const address = point.getMultiaddrs().find(ma => ma.toString().includes('/ws'))
  if (address == null) throw new Error('the point has no WebSocket address')
  return address
}

export function portOf (address: Multiaddr): number {
  return Number(address.toString().split('/tcp/')[1].split('/')[0])
}

/** A node that dials over TCP and WebSockets and runs identify, like the CLI's client */
export async function dialer (): Promise<Libp2p> {
  const node = await createLibp2p({
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  nodes.push(node)
  return node
}

function isRelayed (address: Multiaddr): boolean {
  return address.getComponents().some(c => c.code === CODE_P2P_CIRCUIT)
}

/**
 * A node shaped like a browser tab's: it cannot listen, so it dials the
 * point and waits for a relay reservation there, its only address. It runs
 * identify, and whatever `services` add (a rendezvous client, say).
 */
export async function browserShaped<S extends ServiceMap = Record<never, never>> (point: Multiaddr, services?: ServiceFactoryMap<S>): Promise<Libp2p<S>> {
  const node = await createLibp2p<S & { identify: Identify }>({
    addresses: { listen: ['/p2p-circuit'] },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { ...services, identify: identify() } as ServiceFactoryMap<S & { identify: Identify }>
  })
  nodes.push(node)
  const relayed = new Promise<void>(resolve => {
    const check = (): void => {
      if (!node.getMultiaddrs().some(isRelayed)) return
      node.removeEventListener('self:peer:update', check)
      resolve()
    }
    node.addEventListener('self:peer:update', check)
  })
  await node.dial(point)
  await relayed
  return node
}

export function relayAddresses (node: Libp2p): string[] {
  return node.getMultiaddrs().filter(isRelayed).map(String)
}

export interface RawSocket {
  socket: Socket
  /**
   * `accepted` once the point answers our multistream-select header (its
   * limits let the connection in, and it waits in its handshake for a
   * security protocol that never comes), `refused` when it closes the
   * connection first
   */
  outcome: Promise<'accepted' | 'refused'>
  /** Resolves when the socket closes, whoever closed it */
  closed: Promise<void>
  isOpen(): boolean
}

const MULTISTREAM = new TextEncoder().encode('\x13/multistream/1.0.0\n')

/** A TCP connection to `port` from `localAddress` that stops after multistream-select's header: a peer stuck in its handshake */
export function rawSocket (port: number, localAddress: string): RawSocket {
  const socket = connect({ host: '127.0.0.1', port, localAddress })
  sockets.push(socket)
  // a refused connection may be reset before or after it connected
  socket.on('error', () => {})
  socket.once('connect', () => { socket.write(MULTISTREAM) })
  const closed = new Promise<void>(resolve => socket.once('close', () => { resolve() }))
  const outcome = Promise.race([
    new Promise<'accepted'>(resolve => socket.once('data', () => { resolve('accepted') })),
    closed.then(() => 'refused' as const)
  ])
  return { socket, outcome, closed, isOpen: () => !socket.destroyed }
}

export const HOP = '/libp2p/circuit/relay/0.2.0/hop'

/** circuit-relay-v2's HopMessage and Status numbers (its protobuf is not exported) */
export const HopField = { type: 1, reservation: 3, limit: 4, status: 5 } as const
export const LimitField = { duration: 1, data: 2 } as const
export const HopStatus = { OK: 100, RESERVATION_REFUSED: 200 } as const

/** Send a RESERVE on a HOP stream of `connection`'s peer and read the answer's raw fields */
export async function reserve (node: Libp2p, point: Multiaddr): Promise<Uint8Array> {
  const stream = await node.dialProtocol(point, HOP)
  const lp = lpStream(stream)
  await lp.write(body(varintField(HopField.type, 0)))
  const answer = (await lp.read()).subarray()
  await stream.close()
  return answer
}

export function hopStatus (answer: Uint8Array): number {
  return Number(fieldValue(answer, HopField.status))
}
