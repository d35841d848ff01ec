import { InvalidMessageError } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { encodingLength } from 'uint8-varint'
import { Message } from '../pb/rendezvous.ts'
import type { Message as ClientMessage } from '../pb/client.ts'
import type { AbortOptions, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface RendezvousStream<T = Message, Out = T> {
  /** The next message; throws `InvalidMessageError` for a frame that is not one, `UnexpectedEOFError` at the end */
  read(options?: AbortOptions): Promise<T>
  write(message: Out, options?: AbortOptions): Promise<void>
}

/** A generated message codec: the point's whole schema, or the client's part of it */
export interface MessageCodec<T, Out = T> {
  encode(message: Out): Uint8Array
  decode(bytes: Uint8Array | Uint8ArrayList): T
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
 * Varint length-prefixed rendezvous messages on a stream, in the point's
 * schema (the spec's and the pre-2020 one's messages).
 */
export function rendezvousStream (stream: Stream, maxMessageSize: number): RendezvousStream<Message, Message | ClientMessage> {
  // a client's message is one of the point's schema: same names, numbers and enum values
  return messageStream<Message, Message | ClientMessage>(stream, maxMessageSize, Message as MessageCodec<Message, Message | ClientMessage>)
}

/**
 * Varint length-prefixed messages of `codec` on a stream. A frame that
 * announces more than `maxMessageSize` bytes fails before any of it is read,
 * as does a length prefix longer than that size needs, and the read buffer is
 * bounded too, so a peer cannot make us hold more than about two frames of
 * its data.
 */
export function messageStream<T, Out = T> (stream: Stream, maxMessageSize: number, codec: MessageCodec<T, Out>): RendezvousStream<T, Out> {
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
        return codec.decode(frame)
      } catch (err: any) {
        throw new InvalidMessageError(`Malformed rendezvous message: ${err?.message ?? err}`)
      }
    },
    async write (message, options) {
      await lp.write(codec.encode(message), options)
    }
  }
}
