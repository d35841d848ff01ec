/**
 * A Node program with `libp2p-rendezvous/node-compat` imported first that
 * opens a WebSocket the way libp2p's transport does, listening for `open`
 * and `close` only, to `$PORT`, where the connection is reset before the
 * handshake. It prints `closed` once the WebSocket has closed, and exits.
 */
import '../../../src/node/compat.ts'

const socket = new WebSocket(`ws://127.0.0.1:${process.env.PORT ?? ''}`)
socket.addEventListener('open', () => { console.info('open') })
socket.addEventListener('close', () => { console.info('closed') })
