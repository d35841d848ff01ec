import type { AbortOptions, Stream } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'

/**
 * After closing our end of the stream, wait (for as long as the caller's
 * signal allows) until the point has closed its end too, or the stream is
 * gone. Points close their end only after handling what we sent, so this is
 * the one sign that an UNREGISTER, which has no response, was read. Without
 * it, a node that stops right after unregistering can close the connection
 * while the message still sits unread in the point's buffers.
 */
function settleOnClose (stream: Stream): Stream {
  const close = stream.close.bind(stream)
  stream.close = async (options?: AbortOptions): Promise<void> => {
    await close(options)
    await new Promise<void>(resolve => {
      if (stream.remoteWriteStatus === 'closed' || stream.status !== 'open' || options?.signal?.aborted === true) {
        resolve()
        return
      }
      const done = (): void => {
        stream.removeEventListener('remoteCloseWrite', done)
        stream.removeEventListener('close', done)
        options?.signal?.removeEventListener('abort', done)
        resolve()
      }
      stream.addEventListener('remoteCloseWrite', done)
      stream.addEventListener('close', done)
      options?.signal?.addEventListener('abort', done)
    })
  }
  return stream
}

/**
 * `components` whose connection manager opens streams that settle on close.
 * Reads through to `components` lazily, as libp2p's components must be read.
 */
export function withSettledStreams<T extends { connectionManager: ConnectionManager }> (components: T): T {
  let settled: ConnectionManager | undefined
  return new Proxy(components, {
    get (target, property, receiver) {
      if (property !== 'connectionManager') return Reflect.get(target, property, receiver)
      settled ??= new Proxy(target.connectionManager, {
        get (manager, key, managerReceiver) {
          if (key !== 'openStream') return Reflect.get(manager, key, managerReceiver)
          return async (...args: Parameters<ConnectionManager['openStream']>): Promise<Stream> => settleOnClose(await manager.openStream(...args))
        }
      })
      return settled
    }
  })
}
