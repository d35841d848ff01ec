/**
 * Hostile input to the point, in both schemas (signed records and pre-2020
 * PeerInfo): generated and mutated frames against the real handler,
 * in-process (over a hundred thousand, through `RendezvousPoint`'s own
 * stream handler on real `AbstractStream`s, see direct-point.ts) and over
 * real libp2p streams (TCP, noise, yamux). Every frame must be answered with
 * a valid status, met with silence (UNREGISTER), or end its stream with a
 * reset; nothing may throw past the handler or reject unhandled; the point
 * must accept only records their peers signed about themselves (or their
 * own PeerInfo, stored unsigned), return only what it accepted, in the
 * schema each connection speaks and never an unsigned registration to a
 * spec client; and once the fuzzers' own registrations are gone, the store
 * is exactly what legitimate traffic left and memory is flat.
 *
 * The seed is printed; `HARDENING_SEED=<seed>` replays a run exactly.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { MAX_REQUEST_SIZE, RENDEZVOUS_PROTOCOL } from '../../../src/constants.ts'
import { discoverRequest, Message, registerRequest, unregisterRequest } from '../../../src/protocol/messages.ts'
import { createClient, createPoint, stopNodes } from '../../fixtures/nodes.ts'
import { newKey, signRecord } from '../../fixtures/records.ts'
import { varint } from '../../fixtures/wire.ts'
import { MemoryRegistrationStore } from '../../../src/server/store/memory-store.ts'
import { directPoint } from './direct-point.ts'
import { FuzzLedger, snapshot } from './fuzz-check.ts'
import { FrameFactory, foreignRecords, fuzzPeers } from './fuzz-frames.ts'
import { inBatches, mib, MiB, Random, report, retainedBytes, seedFromEnv, watchUnhandled } from './support.ts'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import type { DirectPoint } from './direct-point.ts'
import type { Outcome } from './fuzz-check.ts'
import type { Corpus, FuzzPeer, Piece, Session } from './fuzz-frames.ts'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'

const IN_PROCESS_FRAMES = 100_000
const OVER_STREAMS_FRAMES = 5_000
const ROUNDS = 5
/** Fuzz peers: each sends as itself, so its own valid records can get through */
const FUZZ_PEERS = 4
/** Streams each fuzz peer has open at once over real connections */
const STREAMS_PER_PEER = 3
/**
 * How much more memory the last round may hold than the second (the first
 * warms up): less than a leak of a hundred bytes per stream would add over
 * the three rounds between them (some 40,000 streams), and several times
 * the collector's noise (under 1 MiB).
 */
const ALLOWED_GROWTH = 4 * MiB

/** A message as one length-prefixed frame */
function frame (message: Message): Uint8Array {
  const body = Message.encode(message)
  return new Uint8ArrayList(varint(body.byteLength), body).subarray()
}

/** Sessions of the pieces in order: one stream each until a piece ends it, at most `size` pieces */
function grouped (factory: FrameFactory, sender: FuzzPeer, pieces: Piece[], size = 6): Session[] {
  const sessions: Session[] = []
  let current: Piece[] = []
  for (const piece of pieces) {
    current.push(piece)
    if (current.length >= size || piece.expect.kind === 'reset' || piece.expect.kind === 'eof') {
      sessions.push(factory.asSession(sender, current))
      current = []
    }
  }
  if (current.length > 0) sessions.push(factory.asSession(sender, current))
  return sessions
}

interface Legit {
  peers: Array<{ peerId: PeerId, namespace: string, record: Uint8Array }>
}

async function legitimatePeers (): Promise<Legit> {
  return {
    peers: await Promise.all(['legit-a', 'legit-b', 'legit-a'].map(async namespace => {
      const key = await newKey()
      return { peerId: peerIdFromPrivateKey(key), namespace, record: await signRecord(key, { seq: 7n }) }
    }))
  }
}

/** The fuzz peers' cookies and records that are not theirs to register */
async function corpusFor (peers: FuzzPeer[], discover: (message: Message) => Promise<Message>): Promise<Corpus> {
  const app = (await discover(discoverRequest('app'))).discoverResponse?.cookie
  const all = (await discover(discoverRequest())).discoverResponse?.cookie
  if (app == null || all == null) throw new Error('the point issued no cookie')
  const foreign = (await Promise.all(peers.map(foreignRecords))).flat()
  return { peers, foreign, cookies: { app, all } }
}

describe('fuzzing the point', () => {
  afterEach(stopNodes)

  it(`in-process: at least ${IN_PROCESS_FRAMES} generated and mutated frames through the real stream handler`, async () => {
    const seed = seedFromEnv()
    const rng = new Random(seed)
    const watch = watchUnhandled()
    let point: DirectPoint | undefined
    try {
      point = await directPoint()
      const { store, server } = point
      const exchange = point.exchange.bind(point)
      const legit = await legitimatePeers()
      for (const { peerId, namespace, record } of legit.peers) {
        const { frames } = await exchange(peerId, [frame(registerRequest(namespace, record, 3600))])
        expect(Message.decode(frames[0]).registerResponse?.status).toBe('OK')
      }
      const peers = await fuzzPeers(FUZZ_PEERS)
      const corpus = await corpusFor(peers, async (message) => Message.decode((await exchange(peers[0].peerId, [frame(message)])).frames[0]))
      const factory = new FrameFactory(rng, corpus, MAX_REQUEST_SIZE)
      const ledger = new FuzzLedger(server.policy, seed)
      legit.peers.forEach(p => { ledger.accept(p.namespace, p.record, true) })
      const everything = async (): Promise<ReturnType<typeof snapshot>> => snapshot((await store.discover(undefined, 0n, Number.MAX_SAFE_INTEGER, Date.now())).registrations)
      const baseline = await everything()
      const baselineStats = await server.getNamespaceStats()

      const run = async (session: Session): Promise<void> => {
        await ledger.check(session, await exchange(session.sender.peerId, session.chunks))
      }

      const retained: number[] = []
      const perRound = Math.ceil(IN_PROCESS_FRAMES / ROUNDS)
      for (let round = 0; round < ROUNDS; round++) {
        const target = ledger.frames + perRound
        // every field of every kind of request corrupted every way, then the frames at and just over the size limit
        for (const sender of peers) {
          for (const session of grouped(factory, sender, factory.everyFieldCorrupted(sender))) await run(session)
        }
        const sender = rng.pick(peers)
        await run(factory.asSession(sender, [factory.boundary(sender, false)]))
        await run(factory.asSession(sender, [factory.boundary(sender, true)]))
        while (ledger.frames < target) await run(factory.session())

        await ledger.checkStored((await store.discover(undefined, 0n, Number.MAX_SAFE_INTEGER, Date.now())).registrations)
        // the fuzzers leave, as any peer may: an UNREGISTER of all their namespaces
        for (const peer of peers) await exchange(peer.peerId, [frame(unregisterRequest(''))])
        expect(await everything()).toEqual(baseline)
        expect(await server.getNamespaceStats()).toEqual(baselineStats)
        ledger.endRound()
        retained.push(await retainedBytes())
      }

      report('in-process fuzz', { ...ledger.summary(), retainedPerRound: retained.map(mib) })
      expect(ledger.failures).toEqual([])
      expect(ledger.failureCount).toBe(0)
      expect(ledger.frames).toBeGreaterThanOrEqual(IN_PROCESS_FRAMES)
      // the pre-2020 path was taken, both ways
      expect(ledger.statuses.get('REGISTER (PeerInfo) OK')).toBeGreaterThan(0)
      expect(ledger.statuses.get('DISCOVER answered in PeerInfo')).toBeGreaterThan(0)
      expect(watch.seen).toEqual([])
      // the first round warms up code and caches; from then on nothing may pile up
      expect(retained[ROUNDS - 1] - retained[1]).toBeLessThan(ALLOWED_GROWTH)
    } finally {
      watch.stop()
      await point?.stop()
    }
  }, 600_000)

  it(`over real libp2p streams: at least ${OVER_STREAMS_FRAMES} frames from ${FUZZ_PEERS} peers over TCP`, async () => {
    const seed = seedFromEnv()
    const rng = new Random(seed)
    const watch = watchUnhandled()
    try {
      const store = new MemoryRegistrationStore()
      const { server, address } = await createPoint({ store }, 'tcp')
      const peers = await fuzzPeers(FUZZ_PEERS)
      const nodes = new Map<string, Libp2p>()
      for (const peer of peers) nodes.set(peer.peerId.toString(), (await createClient({}, 'tcp', peer.key)).node)
      const open = async (peer: FuzzPeer): Promise<Stream> => (nodes.get(peer.peerId.toString()) as Libp2p).dialProtocol(address, RENDEZVOUS_PROTOCOL)

      const legit = await createClient({}, 'tcp')
      await legit.client.register(address, 'legit-a', { ttl: 3600 })
      const [legitRegistration] = (await legit.client.discover(address, 'legit-a')).registrations
      const corpus = await corpusFor(peers, async (message) => {
        const stream = await open(peers[0])
        const outcome = await overStream(stream, [frame(message)])
        return Message.decode(outcome.frames[0])
      })
      const factory = new FrameFactory(rng, corpus, MAX_REQUEST_SIZE)
      // a peer's sessions share its one connection here, and run at once
      const ledger = new FuzzLedger(server.policy, seed, true)
      ledger.accept('legit-a', legitRegistration.signedPeerRecord, true)
      const everything = async (): Promise<ReturnType<typeof snapshot>> => snapshot((await store.discover(undefined, 0n, Number.MAX_SAFE_INTEGER, Date.now())).registrations)
      const baseline = await everything()
      const baselineStats = await server.getNamespaceStats()

      const sessions: Session[] = []
      for (const sender of peers) sessions.push(...grouped(factory, sender, factory.everyFieldCorrupted(sender)))
      for (let frames = sessions.reduce((n, s) => n + s.pieces.length, 0); frames < OVER_STREAMS_FRAMES;) {
        const session = factory.session()
        sessions.push(session)
        frames += session.pieces.length
      }
      // every peer at once, each with a few streams open, well inside the point's streams-per-connection cap
      await Promise.all(peers.map(async peer => inBatches(sessions.filter(s => s.sender === peer), STREAMS_PER_PEER, async (session) => {
        const outcome = await overStream(await open(session.sender), session.chunks)
        await ledger.check(session, outcome)
      })))

      ledger.settle()
      await ledger.checkStored((await store.discover(undefined, 0n, Number.MAX_SAFE_INTEGER, Date.now())).registrations)
      for (const peer of peers) await overStream(await open(peer), [frame(unregisterRequest(''))])
      expect(await everything()).toEqual(baseline)
      expect(await server.getNamespaceStats()).toEqual(baselineStats)
      // the point still serves an ordinary client
      expect((await legit.client.discover(address, 'legit-a')).registrations.map(r => r.peerId.toString())).toEqual([legit.node.peerId.toString()])

      report('fuzz over libp2p streams', ledger.summary())
      expect(ledger.failures).toEqual([])
      expect(ledger.failureCount).toBe(0)
      expect(ledger.frames).toBeGreaterThanOrEqual(OVER_STREAMS_FRAMES)
      expect(watch.seen).toEqual([])
    } finally {
      watch.stop()
    }
  }, 300_000)
})

/**
 * Send `chunks` on a real stream, close our side, and read every frame the
 * point writes until its side ends; then how the stream ended.
 */
async function overStream (stream: Stream, chunks: Uint8Array[]): Promise<Outcome> {
  const lp = lpStream(stream, { maxDataLength: 4 * MiB })
  const ended = new Promise<void>(resolve => {
    if (stream.status !== 'open') resolve()
    else stream.addEventListener('close', () => { resolve() }, { once: true })
  })
  try {
    for (const chunk of chunks) {
      if (!stream.send(chunk)) await stream.onDrain()
    }
    await stream.close()
  } catch {
    // the point may reset the stream while we are still sending
  }
  const frames: Uint8Array[] = []
  while (true) {
    try {
      frames.push((await lp.read()).subarray())
    } catch {
      break
    }
  }
  await ended
  return { frames, ending: stream.status === 'reset' ? 'reset' : stream.status === 'closed' ? 'closed' : 'open', leftover: 0 }
}
