/**
 * A rendezvous point that answers however a test scripts it: forged or
 * absurd registrations, more than was asked for, garbage, a frame too big to
 * read, nothing at all. It plugs into the discovery harness as one more
 * point (in-memory stream pairs), so the real service, client and codec are
 * what it attacks.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { Message } from '../../../src/pb/rendezvous.ts'
import { parseRequest } from '../../../src/protocol/messages.ts'
import { rendezvousStream } from '../../../src/protocol/stream.ts'
import { varint } from '../../fixtures/wire.ts'
import type { Request } from '../../../src/protocol/messages.ts'
import type { TestPoint } from '../../discovery/harness.ts'
import type { PeerId, Stream } from '@libp2p/interface'

/**
 * - `message`: a well-formed frame holding this message
 * - `bytes`: these bytes exactly, length prefix and all (or none)
 * - `silent`: nothing, and the stream stays open until the client gives up
 * - `close`: close the stream without a word
 * - `reset`: reset the stream
 */
export type Reply =
  | { message: Message }
  | { bytes: Uint8Array }
  | 'silent'
  | 'close'
  | 'reset'

export type Script = (request: Request, from: PeerId) => Reply | Promise<Reply>

export interface HostilePoint extends TestPoint {
  /** Every request read, in order */
  requests: Request[]
  /** Streams not yet ended, from either side */
  readonly live: number
  /** Replace how it answers */
  script: Script
}

/** A frame: `body` behind its varint length prefix */
export function frame (body: Uint8Array): Uint8Array {
  const prefix = varint(body.byteLength)
  const bytes = new Uint8Array(prefix.byteLength + body.byteLength)
  bytes.set(prefix)
  bytes.set(body, prefix.byteLength)
  return bytes
}

export async function createHostilePoint (script: Script): Promise<HostilePoint> {
  const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const streams = new Set<Stream>()

  async function serve (stream: Stream, from: PeerId): Promise<void> {
    const messages = rendezvousStream(stream, 1024 * 1024)
    const request = parseRequest(await messages.read())
    if (request == null) throw new Error('not a request')
    point.requests.push(request)
    const reply = await point.script(request, from)
    if (reply === 'silent') return
    if (reply === 'reset') {
      stream.abort(new Error('reset by a hostile point'))
      return
    }
    if (reply !== 'close') {
      if ('message' in reply) await messages.write(reply.message)
      else stream.send(reply.bytes)
    }
    await stream.close()
  }

  const point: HostilePoint = {
    id,
    address: multiaddr(`/dns4/hostile.test/tcp/443/wss/p2p/${id.toString()}`),
    calls: { register: 0, unregister: 0, discover: 0 },
    streams: 0,
    dials: 0,
    mode: 'up',
    requests: [],
    script,
    get live () {
      return streams.size
    },
    open: async (remotePeer) => {
      const [outbound, inbound] = await streamPair()
      streams.add(inbound)
      inbound.addEventListener('close', () => { streams.delete(inbound) }, { once: true })
      void serve(inbound, remotePeer).catch(err => { inbound.abort(err) })
      return outbound
    }
  }
  return point
}
