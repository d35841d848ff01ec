/**
 * A ping to the point twice a second from the measuring process, on a
 * connection of its own: the round trip a browser's own pings see, taken
 * apart from the crowd's processes. libp2p closes a connection whose ping
 * goes unanswered for about 5 s, so a point that stalls that long loses its
 * browsers however its limits are set; this shows whether it did.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { clientNode } from '../lib/nodes.ts'
import type { ClientNode } from '../lib/nodes.ts'

const INTERVAL = 500
/** Milliseconds a ping may take before it counts as lost */
export const PING_LOST = 10_000

export interface Ping {
  /** Milliseconds since the epoch when it was sent */
  at: number
  /** Round trip in milliseconds; PING_LOST when it was lost */
  ms: number
}

export class PingProbe {
  readonly pings: Ping[] = []
  private running = true
  private readonly done: Promise<void>

  private constructor (private readonly node: ClientNode, address: string) {
    const point = multiaddr(address)
    this.done = (async () => {
      while (this.running) {
        const at = performance.timeOrigin + performance.now()
        const ms = await node.services.ping.ping(point, { signal: AbortSignal.timeout(PING_LOST) }).catch(() => PING_LOST)
        this.pings.push({ at, ms })
        await new Promise(resolve => setTimeout(resolve, Math.max(0, INTERVAL - ms)))
      }
    })()
  }

  /** Connected to the point at `address` (its TCP address), and pinging */
  static async start (address: string): Promise<PingProbe> {
    const node = await clientNode()
    try {
      await node.dial(multiaddr(address))
    } catch (err) {
      await node.stop()
      throw err
    }
    return new PingProbe(node, address)
  }

  /** The pings sent from `from` until `to` (milliseconds since the epoch) */
  between (from: number, to: number): number[] {
    return this.pings.filter(p => p.at >= from && p.at < to).map(p => p.ms)
  }

  async stop (): Promise<void> {
    this.running = false
    await this.done
    await this.node.stop()
  }
}
