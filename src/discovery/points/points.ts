import { InvalidParametersError } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { isMultiaddr, multiaddr } from '@multiformats/multiaddr'
import type { Point } from '../context.ts'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The peer id in the last `/p2p/` component, which names the peer at the end of any relay path */
function pointId (address: Multiaddr): string | undefined {
  return address.getComponents().findLast(c => c.name === 'p2p')?.value
}

/**
 * Parse and group point addresses. Addresses of one peer (say its
 * WebSockets and WebTransport addresses) make one point, registered at once.
 * Throws `InvalidParametersError` for an address that does not parse or
 * does not say whose it is.
 */
export function parsePoints (addresses: Array<string | Multiaddr>): Point[] {
  const points = new Map<string, Point>()
  for (const input of addresses) {
    let address: Multiaddr
    try {
      if (typeof input !== 'string' && !isMultiaddr(input)) throw new Error(`it is a ${typeof input}`)
      address = typeof input === 'string' ? multiaddr(input) : input
    } catch (err: any) {
      throw new InvalidParametersError(`Rendezvous point ${String(input)} is not a multiaddr: ${err?.message ?? err}`)
    }
    const id = pointId(address)
    if (id == null) {
      throw new InvalidParametersError(`Rendezvous point ${address.toString()} has no /p2p/<peer id>`)
    }
    let peerId: PeerId
    try {
      peerId = peerIdFromString(id)
    } catch (err: any) {
      throw new InvalidParametersError(`Rendezvous point ${address.toString()} has an invalid peer id: ${err?.message ?? err}`)
    }
    const key = peerId.toString()
    const point = points.get(key) ?? { id: peerId, key, addresses: [] }
    if (!point.addresses.some(a => a.equals(address))) point.addresses.push(address)
    points.set(key, point)
  }
  return [...points.values()]
}

/** Whether any point is reached over WebSockets (`/ws`, `/wss`), which in Node needs a global `WebSocket` */
export function overWebSockets (points: Point[]): boolean {
  return points.some(point => point.addresses.some(address => address.getComponents().some(c => c.name === 'ws' || c.name === 'wss')))
}
