/**
 * Where the time of one request goes, DISCOVER (a page of 100 from a
 * namespace of 10k) and REGISTER: the end-to-end time through the real
 * client over a real connection, next to its parts timed alone. Stream
 * setup and the round trip are the ping over the same connection; the rest
 * that no part accounts for is framing, muxing and encryption of the payload,
 * and the event loop in between.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { Message, parseDiscoverResponse, registerRequest } from '../../src/protocol/messages.ts'
import { openPeerRecord, sealPeerRecord } from '../../src/protocol/peer-record.ts'
import { handleRequest } from '../../src/server/handle-request.ts'
import { memoryStore } from '../../src/server/index.ts'
import { clientNode, pointNode } from '../lib/nodes.ts'
import { fillNamespace } from '../lib/peers.ts'
import { requestContext } from '../lib/point-context.ts'
import { interleaved, round, summarize } from '../lib/stats.ts'
import type { Summary } from '../lib/stats.ts'

const NAMESPACE = 'breakdown'

/** One part of a request's time: median microseconds, and its share of the end-to-end median */
export interface Part {
  name: string
  us: number
  share: number
}

export interface RequestBreakdown {
  /** Milliseconds, through the real client */
  endToEnd: Summary
  parts: Part[]
}

export interface BreakdownResult {
  registrations: number
  samples: number
  discover: RequestBreakdown
  register: RequestBreakdown
}

/** Parts in microseconds against an end-to-end time in milliseconds; what they leave over is the last part */
function breakdown (endToEnd: number[], parts: Record<string, number[]>, rest: string): RequestBreakdown {
  const total = summarize(endToEnd)
  const medians = Object.entries(parts).map(([name, samples]) => ({ name, us: summarize(samples).median * 1000 }))
  const accounted = medians.reduce((sum, part) => sum + part.us, 0)
  const all = [...medians, { name: rest, us: total.median * 1000 - accounted }]
  return { endToEnd: total, parts: all.map(part => ({ name: part.name, us: round(part.us, 0), share: round(part.us / (total.median * 1000), 3) })) }
}

export async function discoverBreakdown (registrations = 10_000, samples = 100): Promise<BreakdownResult> {
  const store = memoryStore()
  await fillNamespace(store, NAMESPACE, registrations)
  const point = await pointNode({ store })
  const client = await clientNode()
  try {
    const address = point.getMultiaddrs()[0]
    await client.dial(address)
    const rendezvous = client.services.rendezvous
    await rendezvous.register(address, NAMESPACE)

    // the same requests, handled without a stream, from a peer whose record is ready
    const key = await generateKeyPair('Ed25519')
    const context = await requestContext(store, {}, key)
    const record = await sealPeerRecord(key, [multiaddr('/ip4/127.0.0.1/tcp/4001')], 1n)
    const discoverRequest = { type: 'DISCOVER' as const, namespace: NAMESPACE, limit: 100 }
    const registerRequestValue = { type: 'REGISTER' as const, namespace: NAMESPACE, signedPeerRecord: record, ttl: 7200 }
    const response = await handleRequest(discoverRequest, context) as Message
    const responseBytes = Message.encode(response)
    const page = parseDiscoverResponse(Message.decode(responseBytes), NAMESPACE)

    const wire = await interleaved(samples + 1, {
      ping: async () => client.services.ping.ping(address),
      discover: async () => rendezvous.discover(address, NAMESPACE, { limit: 100 }),
      register: async () => rendezvous.register(address, NAMESPACE, { ttl: 7200 })
    })
    const local = await interleaved(samples, {
      handleDiscover: async () => handleRequest(discoverRequest, context),
      encodeResponse: async () => Message.encode(response),
      decodeResponse: async () => parseDiscoverResponse(Message.decode(responseBytes), NAMESPACE),
      verifyPage: async () => Promise.all(page.registrations.map(async r => openPeerRecord(r.signedPeerRecord))),
      handleRegister: async () => handleRequest(registerRequestValue, context),
      verifyRecord: async () => openPeerRecord(record),
      registerCodec: async () => Message.decode(Message.encode(registerRequest(NAMESPACE, record, 7200)))
    })
    // the first wire sample of each warmed up the connection
    const ping = wire.ping.slice(1)
    const handleRegisterRest = local.handleRegister.map((v, i) => v - local.verifyRecord[i])
    return {
      registrations,
      samples,
      discover: breakdown(wire.discover.slice(1), {
        'stream setup + round trip (ping)': ping,
        'point: store page, cookie, response': local.handleDiscover,
        'point: encode response': local.encodeResponse,
        'client: decode response': local.decodeResponse,
        'client: verify 100 records': local.verifyPage
      }, `framing, muxing, encryption of ${round(responseBytes.byteLength / 1000, 1)} kB, event loop`),
      register: breakdown(wire.register.slice(1), {
        'stream setup + round trip (ping)': ping,
        'point: verify the record': local.verifyRecord,
        'point: checks and store': handleRegisterRest,
        'codec: request both ways': local.registerCodec
      }, 'framing, muxing, encryption, event loop')
    }
  } finally {
    await client.stop()
    await point.stop()
  }
}
