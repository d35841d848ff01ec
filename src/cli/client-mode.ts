/**
 * `--mode client`: dial a rendezvous point, register in a namespace, print
 * every peer found there (marking ourselves), then keep asking with the
 * cookie for peers that arrive later, and now and then without it, to see
 * who left. `--refresh` registers again before the
 * granted TTL lapses; stopping unregisters, so others stop finding us at once
 * instead of when the TTL runs out.
 */
import { CODE_P2P } from '@multiformats/multiaddr'
import { DEFAULT_REFRESH_RATIO, DEFAULT_REQUEST_TIMEOUT, second } from '../constants.ts'
import { DEFAULT_FULL_DISCOVER_EVERY } from '../discovery/constants.ts'
import { peerInfoSchema, rendezvousClient } from '../index.ts'
import { createNode } from './node.ts'
import { CliError, describeError } from './output.ts'
import { sleep } from './shutdown.ts'
import type { ClientOptions } from './args.ts'
import type { Output } from './output.ts'
import type { Registration, RendezvousClient } from '../index.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Unregistering runs after the shutdown signal, so it gets its own deadline */
const UNREGISTER_TIMEOUT = 5 * second

/** `multiaddr` ending in `/p2p/<peerId>`, ready to dial */
function withPeerId (multiaddr: Multiaddr, peerId: string): Multiaddr {
  return multiaddr.getComponents().at(-1)?.code === CODE_P2P ? multiaddr : multiaddr.encapsulate(`/p2p/${peerId}`)
}

/** For `.catch`: a failure, told with what we were doing; an interruption passes through as it is */
function fatal (doing: string, shutdown: AbortSignal): (err: unknown) => never {
  return (err) => { throw shutdown.aborted ? err : new CliError(`${doing}: ${describeError(err)}`) }
}

/** One request's deadline, cut short by the shutdown signal */
function requestSignal (shutdown: AbortSignal): AbortSignal {
  return AbortSignal.any([shutdown, AbortSignal.timeout(DEFAULT_REQUEST_TIMEOUT)])
}

export async function runClient (options: ClientOptions, output: Output, signal: AbortSignal): Promise<void> {
  const { namespace } = options
  // points of the pre-2020 schema (py-libp2p's own) too: their peers are printed, marked unsigned
  const node = await createNode(options.listen, { rendezvous: rendezvousClient({ uncertifiedPeers: peerInfoSchema() }) })
  try {
    const self = node.peerId.toString()
    const listening = node.getMultiaddrs().map(String)
    output.identity(self, listening, [`Client started with peer ID: ${self}`, 'Listening on:', ...listening.map(ma => `  ${ma}`)])

    // named by peer id too, so that every request reuses this connection
    const connection = await node.dial(options.address, { signal }).catch(fatal(`cannot reach the rendezvous point ${options.address}`, signal))
    const point = withPeerId(options.address, connection.remotePeer.toString())
    output.event('connected', { point: point.toString() }, [`Connected to rendezvous server: ${point}`])

    const client = node.services.rendezvous
    const register = async (): Promise<number> => client.register(point, namespace, { ttl: options.ttl, signal: requestSignal(signal) })
    output.say(`Registering in namespace '${namespace}'...`)
    const ttl = await register().catch(fatal(`could not register in '${namespace}'`, signal))
    output.event('registered', { namespace, ttl }, [`Registered with TTL ${ttl}s${options.refresh
      ? `; registering again every ${Math.round(ttl * DEFAULT_REFRESH_RATIO)}s`
      : '; pass --refresh to register again before it lapses'}`])

    try {
      const watch = new NamespaceWatch(client, point, namespace, self, output)
      output.say(`Discovering peers in namespace '${namespace}'...`)
      await watch.poll(requestSignal(signal)).catch(fatal(`could not discover in '${namespace}'`, signal))
      output.say(`Total peers found: ${watch.size}`, watch.size > 1 ? 'Successfully discovered other peers!' : 'No other peers found (only self)',
        `Watching for peers that arrive or leave every ${options.pollInterval / second}s; press Ctrl+C to stop...`)
      await keepWatching(watch, options.refresh ? { ttl, register } : undefined, options, output, signal)
    } finally {
      await unregister(client, point, namespace, output)
    }
  } finally {
    await node.stop()
  }
}

interface Refresh {
  /** Seconds the point granted last time */
  ttl: number
  register(): Promise<number>
}

/**
 * Poll for new peers until shutdown, and with `refresh` register again at
 * 80 % of each granted TTL. Failures here are reported, not fatal: the point
 * may come back.
 */
async function keepWatching (watch: NamespaceWatch, refresh: Refresh | undefined, options: ClientOptions, output: Output, signal: AbortSignal): Promise<void> {
  let nextPoll = Date.now() + options.pollInterval
  let renewAt = refresh == null ? Infinity : Date.now() + refresh.ttl * DEFAULT_REFRESH_RATIO * second
  while (!signal.aborted) {
    await sleep(Math.min(nextPoll, renewAt) - Date.now(), signal)
    if (signal.aborted) return
    if (refresh != null && Date.now() >= renewAt) {
      try {
        const ttl = await refresh.register()
        renewAt = Date.now() + ttl * DEFAULT_REFRESH_RATIO * second
        output.event('refreshed', { namespace: options.namespace, ttl }, [`Registered again in '${options.namespace}' with TTL ${ttl}s`])
      } catch (err) {
        if (signal.aborted) return
        // try again at the next poll: the registration may not have lapsed yet
        renewAt = Date.now() + options.pollInterval
        output.warn(`could not register again: ${describeError(err)}`)
      }
    }
    if (Date.now() >= nextPoll) {
      await watch.pollQuietly(signal)
      nextPoll = Date.now() + options.pollInterval
    }
  }
}

async function unregister (client: RendezvousClient, point: Multiaddr, namespace: string, output: Output): Promise<void> {
  output.say(`Unregistering from namespace '${namespace}'...`)
  try {
    await client.unregister(point, namespace, { signal: AbortSignal.timeout(UNREGISTER_TIMEOUT) })
    output.event('unregistered', { namespace }, [`Unregistered from '${namespace}'`])
  } catch (err) {
    output.warn(`could not unregister, the registration lapses with its TTL: ${describeError(err)}`)
  }
}

/** The peers seen in one namespace, and the cookie that asks only for what is new */
class NamespaceWatch {
  /** Peer id to the addresses we printed for it, so a peer is printed again only when they change */
  private readonly seen = new Map<string, string>()
  private cookie?: Uint8Array
  private failing = false
  /** Polls so far: every few walk the whole namespace without the cookie, as the SDK does, since a cookie never tells who left */
  private polls = 0

  constructor (
    private readonly client: RendezvousClient,
    private readonly point: Multiaddr,
    private readonly namespace: string,
    private readonly self: string,
    private readonly output: Output
  ) {}

  /** Peers found so far, ourselves included */
  get size (): number {
    return this.seen.size
  }

  /**
   * Print the registrations the point has that the cookie has not seen: the
   * one namespace walk, which starts over by itself at a point that restarted
   * and no longer knows the cookie (`seen` keeps the output quiet then)
   */
  async poll (signal: AbortSignal): Promise<void> {
    const whole = this.cookie == null || ++this.polls % DEFAULT_FULL_DISCOVER_EVERY === 0
    const present = new Set<string>()
    const pages = this.client.discoverAll(this.point, this.namespace, { cookie: whole ? undefined : this.cookie, signal })
    let next = await pages.next()
    for (; next.done !== true; next = await pages.next()) {
      present.add(next.value.peerId.toString())
      this.show(next.value)
    }
    this.cookie = next.value
    if (whole) this.showDepartures(present)
  }

  /** After a walk of the whole namespace: whoever it no longer holds has unregistered or lapsed */
  private showDepartures (present: Set<string>): void {
    for (const peerId of [...this.seen.keys()].filter(id => !present.has(id))) {
      this.seen.delete(peerId)
      const isSelf = peerId === this.self
      this.output.event('left', { peerId, self: isSelf }, [isSelf ? `Our own registration is gone: ${peerId}` : `Peer left: ${peerId}`])
    }
  }

  /** `poll`, reporting failures once when they start and once when they end */
  async pollQuietly (shutdown: AbortSignal): Promise<void> {
    try {
      await this.poll(requestSignal(shutdown))
      if (this.failing) this.output.say('Discovering works again')
      this.failing = false
    } catch (err) {
      if (shutdown.aborted) return
      if (!this.failing) this.output.warn(`could not discover, retrying: ${describeError(err)}`)
      this.failing = true
    }
  }

  private show (registration: Registration): void {
    const peerId = registration.peerId.toString()
    const multiaddrs = registration.multiaddrs.map(ma => withPeerId(ma, peerId).toString())
    const { certified } = registration
    const key = `${multiaddrs.join(' ')}${certified ? '' : ' unsigned'}`
    const known = this.seen.get(peerId)
    if (known === key) return
    this.seen.set(peerId, key)
    const isSelf = peerId === this.self
    const label = isSelf ? 'Found self' : known == null ? 'Found peer' : 'Peer has new addresses'
    const mark = certified ? '' : ' (uncertified: an unsigned PeerInfo)'
    this.output.event('peer', { peerId, multiaddrs, self: isSelf, certified }, [`${label}: ${peerId}${mark}`, ...multiaddrs.map(ma => `  ${ma}`)])
  }
}
