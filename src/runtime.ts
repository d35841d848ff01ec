/**
 * What libp2p needs of the JavaScript runtime that Node 20 lacks. Without it
 * a program would fail deep inside its first stream or dial, with an error
 * that names neither the cause nor the cure; checked when a service is made,
 * it fails at start, with one line that says what to do.
 */
import { UnsupportedRuntimeError } from './errors.ts'

const CURE = "import 'libp2p-rendezvous/node-compat' before anything else, or run Node 22 or later"

/**
 * Throws `UnsupportedRuntimeError` when the runtime lacks `Promise.withResolvers`,
 * or when `webSockets` (points to dial over `/ws` or `/wss`) and it has no global `WebSocket`
 */
export function checkRuntime (webSockets = false): void {
  if (typeof Promise.withResolvers !== 'function') {
    throw new UnsupportedRuntimeError(`This runtime has no Promise.withResolvers, which libp2p needs: ${CURE}`)
  }
  if (webSockets && typeof globalThis.WebSocket !== 'function') {
    throw new UnsupportedRuntimeError(`This runtime has no global WebSocket, which libp2p dials /ws and /wss addresses with: ${CURE} (with the ws package installed)`)
  }
}
