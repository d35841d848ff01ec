/**
 * A fuzz pass over the client's reading of DISCOVER pages from points of the
 * pre-2020 schema (`peerInfoSchema()`'s page verifier, the code every
 * registration from such a point goes through): pages mixing well-formed
 * PeerInfos, hostile ones, byte-level mutations of good ones, random bytes
 * and signed records of the same peers. The judge reads PeerInfo with the
 * wire helpers and the multiaddr library alone, so that a verifier that
 * misreads one cannot also fool its judge.
 */
import { logger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { equals } from 'uint8arrays/equals'
import { describe, expect, it } from 'vitest'
import { peerInfoSchema } from '../../../src/client/index.ts'
import { encodePeerInfo } from '../../../src/protocol/peer-info.ts'
import { newKey, signRecord } from '../../fixtures/records.ts'
import { hostilePeerInfo, readPeerInfo } from '../point/fuzz-peer-info.ts'
import { Random, seedFromEnv } from '../point/support.ts'
import { report } from './support.ts'
import type { WireRegistration } from '../../../src/protocol/messages.ts'
import type { PeerId } from '@libp2p/interface'

/** Pages per run: enough for every generator to come up hundreds of times; bounded, as every loop here */
const PAGES = 600

const ADDRESSES = ['/ip4/192.0.2.1/tcp/4001', '/ip6/2001:db8::1/udp/4001/quic-v1', '/dns4/example.com/tcp/443/wss', '/ip4/198.51.100.2/tcp/1/p2p-circuit']

interface Generated {
  bytes: Uint8Array
  /** The peer whose well-formed PeerInfo this is, as generated (not mutated) */
  peerInfoOf?: PeerId
  /** The peer whose valid signed record this is */
  recordOf?: PeerId
}

function mutate (rng: Random, bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice()
  switch (rng.int(4)) {
    case 0:
      for (let i = rng.between(1, 4); i > 0; i--) copy[rng.int(copy.length)] = rng.int(256)
      return copy
    case 1: return copy.subarray(0, rng.int(copy.length))
    case 2: return Uint8Array.from([...copy, ...rng.bytes(rng.between(1, 12))])
    default: return Uint8Array.from([...rng.bytes(rng.between(1, 3)), ...copy])
  }
}

describe('the client reads pages of the pre-2020 schema, fuzzed', () => {
  it('given pages of good, hostile and mutated PeerInfos and signed records, then every uncertified registration is a well-formed PeerInfo taken as written, a signed record always wins, and nothing is lost or thrown', async () => {
    const seed = seedFromEnv()
    const rng = new Random(seed)
    const keys = await Promise.all(Array.from({ length: 6 }, newKey))
    const peers = keys.map(key => peerIdFromPrivateKey(key))
    // the first three also have signed records
    const records = await Promise.all(keys.slice(0, 3).map(async key => signRecord(key)))
    const verifier = peerInfoSchema().client(logger('libp2p:rendezvous:test'))
    const counts = { pages: 0, entries: 0, uncertified: 0, certified: 0, dropped: 0 }

    const generate = (): Generated => {
      const i = rng.int(peers.length)
      const good = encodePeerInfo({ id: peers[i], multiaddrs: ADDRESSES.filter(() => rng.chance(0.5)).map(a => multiaddr(a)) })
      switch (rng.int(5)) {
        case 0: return { bytes: good, peerInfoOf: peers[i] }
        case 1: return { bytes: hostilePeerInfo(rng, peers[i], peers) }
        case 2: return { bytes: mutate(rng, good) }
        case 3: return i < records.length ? { bytes: records[i], recordOf: peers[i] } : { bytes: mutate(rng, records[rng.int(records.length)]) }
        default: return { bytes: rng.bytes(rng.between(1, 80)) }
      }
    }

    for (let page = 0; page < PAGES; page++) {
      const generated = Array.from({ length: rng.between(1, 6) }, generate).filter(g => g.bytes.byteLength > 0)
      const entries: WireRegistration[] = generated.map(g => ({ namespace: 'ns', signedPeerRecord: g.bytes, ttl: 60 }))
      const context = `seed ${seed}, page ${page}`
      const { registrations, dropped } = await verifier.verifyPage(entries, {})

      expect(registrations.length + dropped, context).toBe(entries.length)
      const ids = registrations.map(r => r.peerId.toString())
      expect(new Set(ids).size, context).toBe(ids.length)
      for (const registration of registrations.filter(r => !r.certified)) {
        // exactly what a point wrote, read the one way it reads
        expect(entries.some(e => equals(e.signedPeerRecord, registration.signedPeerRecord)), context).toBe(true)
        const read = readPeerInfo(registration.signedPeerRecord)
        expect(read, context).toBeDefined()
        expect(equals(read!.id, registration.peerId.toMultihash().bytes), context).toBe(true)
        expect(read!.addressBytes, context).toBeLessThanOrEqual(2048)
        expect(registration.multiaddrs.map(ma => ma.bytes), context).toEqual(read!.addresses)
        expect(registration.seq, context).toBe(0n)
      }
      for (const g of generated) {
        // a valid signed record of a peer always stands for it; a good PeerInfo only where none does
        if (g.recordOf != null) expect(registrations.find(r => r.peerId.equals(g.recordOf))?.certified, context).toBe(true)
        if (g.peerInfoOf != null) expect(registrations.some(r => r.peerId.equals(g.peerInfoOf)), context).toBe(true)
      }
      counts.pages++
      counts.entries += entries.length
      counts.dropped += dropped
      counts.uncertified += registrations.filter(r => !r.certified).length
      counts.certified += registrations.filter(r => r.certified).length
    }

    report('pre-2020 pages', { seed, ...counts })
    // every kind of outcome came up, or the generators have gone blind
    expect(Math.min(counts.uncertified, counts.certified, counts.dropped)).toBeGreaterThan(100)
  })
})
