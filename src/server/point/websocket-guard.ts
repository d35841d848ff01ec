/**
 * Two things @libp2p/websockets leaves open on its listener, closed here.
 *
 * - Message size: the `ws` server behind it buffers a whole message,
 *   fragments and all, before libp2p sees a byte, up to `ws`'s default of
 *   100 MiB, and @libp2p/websockets has no option for it: a few hundred
 *   peers still in their handshake could make the point hold tens of GiB.
 *   libp2p's own frames are far smaller (noise frames are at most 64 KiB,
 *   and a relayed connection carries 128 KiB by default).
 * - Protocol errors: `ws` reports a malformed frame (or an oversized message)
 *   as an 'error' event on the socket, and nobody listens for it there, so
 *   six bytes from anyone would end the whole process as an uncaught
 *   exception. `ws` closes such a socket itself; a listener is all it takes.
 */
import { DEFAULT_LIMITS } from './limits.ts'
import type { ComponentLogger, Listener, Logger, Startable } from '@libp2p/interface'
import type { TransportManager } from '@libp2p/interface-internal'

type ErrorEmitter = new (...args: any[]) => { on(event: 'error', listener: (err: Error) => void): unknown }

/** The part of `ws`' server this needs; @libp2p/websockets' listener keeps one, not publicly, so it is checked at run time */
interface WsServer {
  options?: { maxPayload?: unknown, WebSocket?: unknown }
}

/**
 * Guard every WebSocket listener among `listeners`: messages of at most
 * `maxBytes`, and protocol errors that close only their own connection.
 * Returns how many listeners it guarded.
 */
export function guardWebSocketListeners (listeners: Listener[], maxBytes: number, log: Logger): number {
  let guarded = 0
  for (const listener of listeners) {
    const options = (listener as { wsServer?: WsServer }).wsServer?.options
    if (options == null) continue
    if (typeof options.maxPayload !== 'number' || typeof options.WebSocket !== 'function') {
      log.error('cannot guard a WebSocket listener: its server is not the ws server this was written for')
      continue
    }
    options.maxPayload = maxBytes
    // `ws` makes every server-side socket from this class (its documented `WebSocket` option), before any data is read
    const Base = options.WebSocket as ErrorEmitter
    options.WebSocket = class GuardedWebSocket extends Base {
      constructor (...args: any[]) {
        super(...args)
        this.on('error', err => { log('closed a WebSocket connection - %e', err) })
      }
    }
    guarded++
  }
  return guarded
}

export interface WebSocketGuardComponents {
  transportManager: TransportManager
  logger: ComponentLogger
}

/**
 * The guard as a libp2p service, for any node that listens on WebSockets
 * (the command line's client does): `services: { webSocketGuard: webSocketGuard() }`
 */
export function webSocketGuard (maxBytes = DEFAULT_LIMITS.maxWebSocketMessageSize): (components: WebSocketGuardComponents) => Startable {
  return (components) => {
    const log = components.logger.forComponent('libp2p:rendezvous:websocket-guard')
    return {
      start: () => {},
      // the transports listen by now
      afterStart: () => { guardWebSocketListeners(components.transportManager.getListeners(), maxBytes, log) },
      stop: () => {}
    }
  }
}
