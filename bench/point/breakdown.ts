/**
 * Where the time of a DISCOVER for 100 registrations goes: the point's own
 * work (store page, cookie MAC, encoding), the protobuf codec on both ends,
 * and the client's verification of every record. Stream setup is the ping
 * figure of the load benchmark. Each part is timed alone, in microseconds.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Message, parseDiscoverResponse } from '../../src/protocol/messages.ts'
import { openPeerRecord, sealPeerRecord } from '../../src/protocol/peer-record.ts'
import { Cookies } from '../../src/server/cookies.ts'
import { handleRequest } from '../../src/server/handle-request.ts'
import { memoryStore } from '../../src/server/index.ts'
import { fill } from './discover-scale.ts'
import { round, summarize, time } from '../lib/stats.ts'

export interface BreakdownResult {
  /** microseconds, medians */
  pointHandlesDiscover: number
  encodeResponse: number
  decodeResponse: number
  verifyOneRecord: number
  verifyPage: number
}

async function medianMicros (runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const samples: number[] = []
  for (let i = 0; i < runs; i++) samples.push(await time(async () => fn()))
  return round(summarize(samples).median * 1000, 1)
}

export async function discoverBreakdown (): Promise<BreakdownResult> {
  const store = memoryStore()
  await fill(store, 10_000, 'breakdown')
  const key = await generateKeyPair('Ed25519')
  const context = {
    remotePeer: peerIdFromPrivateKey(key),
    now: Date.now(),
    store,
    cookies: new Cookies(new Uint8Array(32)),
    policy: { minTtl: 120, maxTtl: 259_200, defaultTtl: 7200, maxNamespaceLength: 255, maxRegistrationsPerPeer: 1000, maxRegistrations: 1_000_000, maxDiscoverLimit: 1000, allowEmptyAddresses: false, acceptLegacyRecords: true }
  }
  const request = { type: 'DISCOVER' as const, namespace: 'breakdown', limit: 100 }
  const response = await handleRequest(request, context) as Message
  const bytes = Message.encode(response)
  const record = await sealPeerRecord(key, [multiaddr('/ip4/127.0.0.1/tcp/4001')], 1n)
  const page = parseDiscoverResponse(Message.decode(bytes), 'breakdown')

  return {
    pointHandlesDiscover: await medianMicros(200, async () => handleRequest(request, context)),
    encodeResponse: await medianMicros(500, () => Message.encode(response)),
    decodeResponse: await medianMicros(500, () => Message.decode(bytes)),
    verifyOneRecord: await medianMicros(500, async () => openPeerRecord(record)),
    verifyPage: await medianMicros(50, async () => Promise.all(page.registrations.map(async r => openPeerRecord(r.signedPeerRecord))))
  }
}
