import { InvalidMessageError } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { Message } from '../pb/rendezvous.ts'
import type { AbortOptions, Stream } from '@libp2p/interface'

export interface RendezvousStream {
  /** The next message; throws `InvalidMessageError` for a frame that is not one, `UnexpectedEOFError` at the end */
  read(options?: AbortOptions): Promise<Message>
  write(message: Message, options?: AbortOptions): Promise<void>
}

/**
 * Varint length-prefixed rendezvous messages on a stream. A frame that
 * announces more than `maxMessageSize` bytes fails before any of it is read,
 * and the read buffer is bounded too, so a peer cannot make us hold more than
 * about two frames of its data.
 */
export function rendezvousStream (stream: Stream, maxMessageSize: number): RendezvousStream {
  const lp = lpStream(stream, { maxDataLength: maxMessageSize, maxBufferSize: 2 * maxMessageSize + 20 })
  return {
    async read (options) {
      const frame = await lp.read(options)
      try {
        return Message.decode(frame)
      } catch (err: any) {
        throw new InvalidMessageError(`Malformed rendezvous message: ${err?.message ?? err}`)
      }
    },
    async write (message, options) {
      await lp.write(Message.encode(message), options)
    }
  }
}
