/**
 * `libp2p-rendezvous/node-compat`. libp2p v3 targets Node 22. On Node 20 it
 * needs `Promise.withResolvers`, and its WebSocket transport dials with the
 * global `WebSocket`, which Node 20 keeps behind a flag. Import this module
 * before anything else in Node 20 programs (the services say so, in one line,
 * when it is missing). It is the package's one module with side effects, and
 * nothing else imports it, so `ws` never reaches a browser bundle. `ws` is
 * an optional peer dependency (every Node program that dials WebSockets has
 * it, through @libp2p/websockets): without it there is no WebSocket to shim,
 * and the services say so when a point is reached over WebSockets.
 */

import { createRequire } from 'node:module'

if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T> (): PromiseWithResolvers<T> {
      let resolve!: (value: T | PromiseLike<T>) => void
      let reject!: (reason?: unknown) => void
      const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}

/**
 * Loaded synchronously: with a top-level await here, a program's next import
 * (the SDK, libp2p) would be evaluated before the await ends, and would meet
 * no WebSocket.
 */
function optionalWs (): typeof import('ws') | undefined {
  try {
    return createRequire(import.meta.url)('ws')
  } catch {
    return undefined
  }
}

/**
 * `ws` behaves as the WebSocket libp2p was written for in one more way: an
 * error nobody listens to is dropped. `ws` is an EventEmitter, which throws
 * such an error and ends the process: libp2p stops listening once a dial
 * gives up, and a reset that comes later would take every node with it.
 */
if (typeof globalThis.WebSocket === 'undefined') {
  const Base = optionalWs()?.WebSocket
  if (Base != null) {
    class CompatWebSocket extends Base {
      constructor (...args: ConstructorParameters<NonNullable<typeof Base>>) {
        super(...args)
        this.on('error', () => {})
      }
    }
    Object.defineProperty(globalThis, 'WebSocket', { configurable: true, writable: true, value: CompatWebSocket })
  }
}
