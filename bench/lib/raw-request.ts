/**
 * One rendezvous request on a fresh stream, through the protocol's own codec
 * and framing but without the client's record verification: what the point
 * benchmarks send, so that they measure the point and not the client's
 * crypto (the breakdown times that on its own).
 */
import { MAX_RESPONSE_SIZE, RENDEZVOUS_PROTOCOL } from '../../src/constants.ts'
import { rendezvousStream } from '../../src/protocol/stream.ts'
import type { Message } from '../../src/protocol/messages.ts'
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Milliseconds one request may take, as the SDK's client allows by default */
const TIMEOUT = 10_000

export async function rawRequest (node: Libp2p<any>, point: Multiaddr, message: Message): Promise<Message> {
  const signal = AbortSignal.timeout(TIMEOUT)
  const stream = await node.dialProtocol(point, RENDEZVOUS_PROTOCOL, { signal })
  try {
    const messages = rendezvousStream(stream, MAX_RESPONSE_SIZE)
    await messages.write(message, { signal })
    const response = await messages.read({ signal })
    await stream.close({ signal })
    return response
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}
