/**
 * How many connections one host may hold at the point. libp2p bounds how
 * fast a host opens connections (per second), not how many it keeps, so
 * without this one host could take every connection slot, and every
 * handshake slot, of the point. The bound is generous on purpose: behind a
 * campus NAT, a carrier-grade NAT or a reverse proxy, hundreds of honest
 * browsers share one address.
 */
import { tryGetNetConfig } from '@libp2p/utils'
import type { ConnectionGater, Logger, MultiaddrConnection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface HostLimitsInit {
  /** Connections one host may hold, in their handshake or open */
  maxConnectionsPerHost: number
  /** Connections one host may hold in their handshake */
  maxPendingPerHost: number
  log: Logger
}

interface HostCount {
  pending: number
  open: number
}

interface Tracked {
  host: string
  pending: boolean
}

/** The eight 16-bit groups of an IPv6 address, however it is spelled */
function ipv6Groups (address: string): number[] {
  const parse = (part?: string): number[] => (part == null || part === '' ? [] : part.split(':')).flatMap(group => {
    if (!group.includes('.')) return [Number.parseInt(group, 16)]
    // an IPv4 tail (::ffff:a.b.c.d) fills the last two groups
    const [a, b, c, d] = group.split('.').map(Number)
    return [(a << 8) | b, (c << 8) | d]
  })
  const [head, tail] = address.split('::')
  const left = parse(head)
  if (tail == null) return left
  const right = parse(tail)
  return [...left, ...new Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right]
}

/**
 * The host a connection comes from: an IPv4 address (also when it arrives
 * IPv4-mapped on an IPv6 socket), or the /64 network of an IPv6 address (one
 * subscriber gets a whole /64, so counting single IPv6 addresses would bound
 * nobody). Undefined for addresses that are neither.
 */
export function hostOf (address: Multiaddr): string | undefined {
  const config = tryGetNetConfig(address)
  if (config?.type === 'ip4') return config.host
  if (config?.type !== 'ip6') return undefined
  const groups = ipv6Groups(config.host)
  if (groups.slice(0, 5).every(group => group === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.')
  }
  return `${groups.slice(0, 4).map(group => group.toString(16)).join(':')}::/64`
}

/** A connection gater that counts inbound connections per host, from accept to close */
export class HostLimits implements Required<Pick<ConnectionGater, 'denyInboundConnection' | 'denyInboundUpgradedConnection'>> {
  private readonly init: HostLimitsInit
  private readonly hosts = new Map<string, HostCount>()
  private readonly tracked = new WeakMap<MultiaddrConnection, Tracked>()

  constructor (init: HostLimitsInit) {
    this.init = init
  }

  readonly denyInboundConnection = (connection: MultiaddrConnection): boolean => {
    const host = hostOf(connection.remoteAddr)
    if (host == null || connection.status === 'closed') return false
    const count = this.hosts.get(host) ?? { pending: 0, open: 0 }
    if (count.pending + count.open >= this.init.maxConnectionsPerHost) {
      this.init.log('refused a connection from %s: it holds %d, the most one host may', host, count.pending + count.open)
      return true
    }
    if (count.pending >= this.init.maxPendingPerHost) {
      this.init.log('refused a connection from %s: %d of its connections are in their handshake already', host, count.pending)
      return true
    }
    count.pending++
    this.hosts.set(host, count)
    this.tracked.set(connection, { host, pending: true })
    connection.addEventListener('close', () => { this.release(connection) }, { once: true })
    return false
  }

  readonly denyInboundUpgradedConnection = (_peer: unknown, connection: MultiaddrConnection): boolean => {
    const tracked = this.tracked.get(connection)
    const count = tracked == null ? undefined : this.hosts.get(tracked.host)
    if (tracked?.pending === true && count != null) {
      tracked.pending = false
      count.pending--
      count.open++
    }
    return false
  }

  private release (connection: MultiaddrConnection): void {
    const tracked = this.tracked.get(connection)
    if (tracked == null) return
    this.tracked.delete(connection)
    const count = this.hosts.get(tracked.host)
    if (count == null) return
    if (tracked.pending) count.pending--
    else count.open--
    if (count.pending + count.open === 0) this.hosts.delete(tracked.host)
  }
}
