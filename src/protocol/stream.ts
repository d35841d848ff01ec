import { InvalidMessageError } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { encodingLength } from 'uint8-varint'
import { Message } from '../pb/rendezvous.ts'
import type { AbortOptions, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface RendezvousStream {
  /** The next message; throws `InvalidMessageError` for a frame that is not one, `UnexpectedEOFError` at the end */
  read(options?: AbortOptions): Promise<Message>
  write(message: Message, options?: AbortOptions): Promise<void>
}

/**
 * The varint length prefix, refusing one longer than any length we accept.
 * lpStream reads a prefix a byte at a time and keeps reading for as long as
 * the decoder throws a RangeError, which the stock decoder does forever on a
 * run of continuation bytes, holding every byte it was sent until the
 * request times out. Anything else thrown ends the read.
 */
function lengthDecoder (maxLengthLength: number): (bytes: Uint8ArrayList) => number {
  return (bytes) => {
    let value = 0
    for (let i = 0; i < bytes.byteLength; i++) {
      if (i >= maxLengthLength) break
      const byte = bytes.get(i)
      value += (byte & 0x7f) * 2 ** (7 * i)
      if (byte < 0x80) return value
    }
    if (bytes.byteLength >= maxLengthLength) {
      throw new InvalidMessageError(`Frame length prefix is longer than ${maxLengthLength} bytes`)
    }
    // not all of the prefix is here yet
    throw new RangeError('Incomplete length prefix')
  }
}

/**
 * Varint length-prefixed rendezvous messages on a stream. A frame that
 * announces more than `maxMessageSize` bytes fails before any of it is read,
 * as does a length prefix longer than that size needs, and the read buffer is
 * bounded too, so a peer cannot make us hold more than about two frames of
 * its data.
 */
export function rendezvousStream (stream: Stream, maxMessageSize: number): RendezvousStream {
  const maxLengthLength = encodingLength(maxMessageSize)
  const lp = lpStream(stream, {
    maxDataLength: maxMessageSize,
    maxLengthLength,
    lengthDecoder: lengthDecoder(maxLengthLength),
    maxBufferSize: 2 * maxMessageSize + 20
  })
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
