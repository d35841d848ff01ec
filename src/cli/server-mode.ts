/**
 * `--mode server`: the rendezvous point of `createRendezvousPoint`, with a
 * circuit-relay-v2 server beside the rendezvous service, so that browsers,
 * which cannot listen, can still get an address to register. It prints
 * where to reach it and logs statistics until it is told to stop.
 */
import { CODE_WEBRTC_DIRECT, CODE_WS, CODE_WSS } from '@multiformats/multiaddr'
import { createRendezvousPoint } from '../server/index.ts'
import { webRTCDirectAvailable } from '../server/point/webrtc-direct.ts'
import { openStore } from '../server/store/from-url.ts'
import { PROGRAM, UsageError } from './args.ts'
import { listenAddresses, listening, webRTCDirectAddress } from './node.ts'
import { CliError, describeError } from './output.ts'
import { sleep, untilAborted } from './shutdown.ts'
import type { ServerOptions } from './args.ts'
import type { Output } from './output.ts'
import type { RendezvousPointNode, RendezvousPointStats, ServedRequest } from '../server/index.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The command that starts a client, as the user would type it here */
function clientCommand (): string {
  return process.env.npm_lifecycle_event === 'rendezvous' ? 'npm run rendezvous --' : PROGRAM
}

/** A store URL fit for a terminal or a log: without its password */
function redact (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password === '') return url
    parsed.password = '***'
    return parsed.toString()
  } catch {
    return url
  }
}

/** Node clients dial TCP; the WebSocket and WebRTC-direct addresses are for browsers */
function forNodeClients (multiaddrs: Multiaddr[]): Multiaddr | undefined {
  return multiaddrs.find(ma => ma.getComponents().every(c => c.code !== CODE_WS && c.code !== CODE_WSS && c.code !== CODE_WEBRTC_DIRECT)) ?? multiaddrs[0]
}

/**
 * TCP and WebSockets, and WebRTC-direct unless `--no-webrtc`: when
 * @libp2p/webrtc is missing, a point that was not asked for WebRTC-direct
 * in so many words (`--webrtc-port`) goes without it, and says so
 */
async function listenAddressesOf (options: ServerOptions, output: Output): Promise<string[]> {
  const listen = listenAddresses(options.listen)
  const webrtc = options.webrtcDirect
  if (webrtc == null) return listen
  if (webrtc.required || await webRTCDirectAvailable()) return [...listen, webRTCDirectAddress(options.listen.host, webrtc.port)]
  output.warn('not listening on WebRTC-direct: @libp2p/webrtc is not installed (npm install @libp2p/webrtc), so browsers reach this point over WebSockets only; --no-webrtc says so without this warning')
  return listen
}

/** `--log-requests`: one event per request */
function requestLogger (output: Output): (request: ServedRequest) => void {
  return ({ type, namespace, peer }) => {
    const fields = { type, namespace: namespace ?? null, peer: peer.toString() }
    output.event('request', fields, [`${type} ${namespace ?? '(every namespace)'} from ${fields.peer}`])
  }
}

/**
 * The point, or a `UsageError` for a setting it refused: a key file it
 * cannot use, an announce address of another peer
 */
async function configured<T> (point: Promise<T>): Promise<T> {
  return point.catch((err: any) => {
    if (err?.name === 'KeyFileError') throw new UsageError(`--key-file: ${String(err.message)}`)
    if (err?.name === 'InvalidParametersError') throw new UsageError(String(err.message).replace(/^announce:/, '--announce:'))
    throw err
  })
}

export async function runServer (options: ServerOptions, output: Output, signal: AbortSignal): Promise<void> {
  const opened = await openStore(options.store).catch((err: any) => {
    // its message names the store and the reason already
    throw new CliError(`cannot open the store: ${err?.name === 'StoreConnectionError' ? String(err.message) : describeError(err)}`)
  })
  try {
    const listen = await listenAddressesOf(options, output)
    const node = await listening(async () => configured(createRendezvousPoint({
      listen,
      announce: options.announce,
      ...(options.keyFile != null ? { keyFile: options.keyFile } : {}),
      limits: options.limits,
      rendezvous: {
        ...options.policy,
        // points sharing a store must share the secret behind their cookies, and the store hands it out
        store: opened.store,
        ...(options.logRequests ? { onRequest: requestLogger(output) } : {})
      }
    })))
    try {
      printIdentity(node, options, output)
      if (options.statsInterval > 0) {
        while (!signal.aborted) {
          await sleep(options.statsInterval, signal)
          if (!signal.aborted) await printStats(node, output)
        }
      }
      await untilAborted(signal)
    } finally {
      await node.stop()
    }
  } finally {
    await opened.close()
  }
  output.say('Rendezvous server stopped.')
}

function printIdentity (node: RendezvousPointNode, options: ServerOptions, output: Output): void {
  const peerId = node.peerId.toString()
  const multiaddrs = node.getMultiaddrs()
  const listen = node.services.point.getListenAddrs().map(ma => ma.encapsulate(`/p2p/${peerId}`))
  const { minTtl, maxTtl } = node.services.rendezvous.policy
  const { maxConnections, maxConnectionsPerHost, maxReservations } = node.services.point.limits
  output.identity(peerId, multiaddrs.map(String), [
    `Rendezvous server started with peer ID: ${peerId}`,
    'Rendezvous server listening on:',
    ...listen.map(String),
    ...(options.announce.length > 0 ? ['Announced to peers as:', ...multiaddrs.map(String)] : []),
    `Registrations: ${redact(options.store)}, TTL ${minTtl}-${maxTtl} s`,
    `Limits: ${maxConnections} connections (${maxConnectionsPerHost} per host), ${maxReservations} relay reservations`,
    'To connect a client, use:',
    `  ${clientCommand()} --mode client --address ${String(forNodeClients(multiaddrs))}`,
    'Press Ctrl+C to stop...'
  ])
}

async function printStats (node: RendezvousPointNode, output: Output): Promise<void> {
  let stats: RendezvousPointStats
  try {
    stats = await node.services.point.getStats()
  } catch (err) {
    output.warn(`could not read the statistics: ${describeError(err)}`)
    return
  }
  const { connections, reservations } = stats
  const summary = [...stats.namespaces].map(([namespace, count]) => `${namespace}: ${count}`).join(', ')
  output.event('stats', { connections, reservations, namespaces: Object.fromEntries(stats.namespaces) }, [
    `Connections: ${connections}, relay reservations: ${reservations}`,
    stats.namespaces.size > 0 ? `Namespace stats: ${summary}` : 'No active registrations'
  ])
}
