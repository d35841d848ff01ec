/**
 * Every resource cap of the point, one test each, pushed from the hostile
 * side: whatever a peer sends, the point holds no more than its limits allow
 * and goes on serving everyone else. The functional rules at each limit
 * (statuses, what counts) are in test/server/**; these tests push past the
 * limits in bulk and look at what the point holds afterwards.
 *
 * In-process tests drive the real handler (direct-point.ts); the ones about
 * streams and time use real libp2p nodes over TCP.
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Uint8ArrayList } from 'uint8arraylist'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { MAX_DISCOVER_LIMIT, MAX_REGISTRATIONS_PER_PEER, MAX_REQUEST_SIZE, MAX_RESPONSE_SIZE, RENDEZVOUS_PROTOCOL } from '../../../src/constants.ts'
import { discoverRequest, Message, registerRequest, unregisterRequest } from '../../../src/protocol/messages.ts'
import { MemoryRegistrationStore } from '../../../src/server/store/memory-store.ts'
import { createClient, createPoint, stopNodes } from '../../fixtures/nodes.ts'
import { newKey, signRecord } from '../../fixtures/records.ts'
import { rawSession } from '../../fixtures/session.ts'
import { body, bytesField, MessageField, MessageType, RegisterField, varint, varintField } from '../../fixtures/wire.ts'
import { ask, directPoint } from './direct-point.ts'
import { padded } from './fuzz-frames.ts'
import { mib, MiB, Random, report, retainedBytes, watchUnhandled } from './support.ts'
import type { DirectPoint } from './direct-point.ts'
import type { NewRegistration } from '../../../src/server/store/registration-store.ts'
import type { PeerId, Stream } from '@libp2p/interface'

const unhandled = watchUnhandled()
afterAll(() => {
  unhandled.stop()
  expect(unhandled.seen).toEqual([])
})

interface Peer {
  peerId: PeerId
  record: Uint8Array
}

async function peer (): Promise<Peer> {
  const key = await newKey()
  return { peerId: peerIdFromPrivateKey(key), record: await signRecord(key) }
}

function statuses (answers: Message[]): string[] {
  return answers.map(a => String(a.registerResponse?.status ?? a.discoverResponse?.status))
}

function tally (values: string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1
  return counts
}

async function total (point: DirectPoint): Promise<number> {
  return [...(await point.server.getNamespaceStats()).values()].reduce((sum, n) => sum + n, 0)
}

/** Whether `promise` settles within `turns` turns of the event loop: "at once", without a clock */
async function settlesWithin (promise: Promise<unknown>, turns: number): Promise<boolean> {
  let settled = false
  void promise.finally(() => { settled = true })
  for (let i = 0; i < turns && !settled; i++) await new Promise(resolve => setImmediate(resolve))
  return settled
}

const points: DirectPoint[] = []
async function startDirect (...args: Parameters<typeof directPoint>): Promise<DirectPoint> {
  const point = await directPoint(...args)
  points.push(point)
  return point
}

afterEach(async () => {
  await Promise.all(points.splice(0).map(async point => point.stop()))
  await stopNodes()
})

describe('resource caps of the point', () => {
  it('message size: a frame of exactly the limit is read; one byte more resets the stream before any of its body is read; no stream buffers more than two frames', async () => {
    const alice = await peer()
    const counts: Record<string, unknown> = {}
    for (const maxMessageSize of [MAX_REQUEST_SIZE, 1024]) {
      // a point that waited for the body of an oversized frame would wait this long, not reset at once
      const point = await startDirect({ maxMessageSize, timeout: 10 * 60_000 })
      const atLimit = padded(Message.encode(registerRequest('app', alice.record, 300)), maxMessageSize)
      const answered = await point.exchange(alice.peerId, [varint(atLimit.byteLength), atLimit])
      expect(answered.ending).toBe('closed')
      expect(answered.frames.map(f => Message.decode(f).registerResponse?.status)).toEqual(['OK'])

      // only the prefix of a frame one byte over: the body never comes, and the stream stays open
      const over = point.open(alice.peerId)
      over.stream.onData(new Uint8ArrayList(varint(maxMessageSize + 1)))
      expect(await settlesWithin(over.done, 100)).toBe(true)
      expect(over.stream.wasReset).toBe(true)

      // many small frames at once, more bytes than two frames: the point stops reading rather than buffer them
      const discover = Message.encode(discoverRequest('app'))
      const frame = Uint8Array.from([...varint(discover.byteLength), ...discover])
      const flood = new Uint8Array(Math.ceil((2 * maxMessageSize + 64) / frame.byteLength) * frame.byteLength)
      for (let at = 0; at < flood.byteLength; at += frame.byteLength) flood.set(frame, at)
      const flooded = await point.exchange(alice.peerId, [flood], true)
      expect(flooded.ending).toBe('reset')
      counts[`limit ${maxMessageSize}`] = { atLimit: 'answered', overByOne: 'reset before its body', flood: `${flood.byteLength} bytes reset after ${flooded.frames.length} answers` }
    }
    report('message size', counts)
  })

  it('namespace length: nothing longer than the limit, or not UTF-8, is stored, however many are sent; DISCOVER and UNREGISTER refuse it too', async () => {
    const point = await startDirect()
    const alice = await peer()
    const rng = new Random(256)
    const lengths = Array.from({ length: 300 }, () => rng.between(256, 60_000))
    const answers = await ask(point, alice.peerId, [
      registerRequest('a'.repeat(255), alice.record, 300),
      registerRequest('é'.repeat(128), alice.record, 300),
      ...lengths.map(length => registerRequest('n'.repeat(length), alice.record, 300))
    ])
    expect(statuses(answers)).toEqual(['OK', ...Array(lengths.length + 1).fill('E_INVALID_NAMESPACE')])
    expect(await point.server.getNamespaceStats()).toEqual(new Map([['a'.repeat(255), 1]]))

    const [discovered] = await ask(point, alice.peerId, [discoverRequest('a'.repeat(256))])
    expect(discovered.discoverResponse?.status).toBe('E_INVALID_NAMESPACE')
    // an UNREGISTER gets no answer either way; it must not touch what is stored
    expect(await ask(point, alice.peerId, [unregisterRequest('a'.repeat(256))])).toEqual([])
    expect(await total(point)).toBe(1)

    // bytes that decode to a lone surrogate: a string with no UTF-8 form, which would go back out as another namespace
    const loneSurrogate = body(varintField(MessageField.type, MessageType.REGISTER), bytesField(MessageField.register, body(
      bytesField(RegisterField.ns, Uint8Array.of(0x61, 0xed, 0xa0, 0x80)),
      bytesField(RegisterField.signedPeerRecord, alice.record),
      varintField(RegisterField.ttl, 300)
    )))
    const malformed = await point.exchange(alice.peerId, [varint(loneSurrogate.byteLength), loneSurrogate])
    expect(malformed.frames.map(f => Message.decode(f).registerResponse?.status)).toEqual(['E_INVALID_NAMESPACE'])
    expect(await total(point)).toBe(1)

    const short = await startDirect({ maxNamespaceLength: 8 })
    expect(statuses(await ask(short, alice.peerId, [registerRequest('12345678', alice.record, 300), registerRequest('123456789', alice.record, 300)])))
      .toEqual(['OK', 'E_INVALID_NAMESPACE'])
    report('namespace length', { refused: answers.length, longest: Math.max(...lengths), stored: await total(point) })
  })

  it(`registrations per peer: a peer holds at most ${MAX_REGISTRATIONS_PER_PEER} by default, however it asks; refreshes and other peers are not affected`, async () => {
    const point = await startDirect()
    const [alice, bob] = [await peer(), await peer()]
    const namespaces = Array.from({ length: MAX_REGISTRATIONS_PER_PEER }, (_, i) => `ns-${i}`)
    const filled = await ask(point, alice.peerId, namespaces.map(ns => registerRequest(ns, alice.record, 300)))
    expect(statuses(filled)).toEqual(Array(MAX_REGISTRATIONS_PER_PEER).fill('OK'))

    const beyond = await ask(point, alice.peerId, Array.from({ length: 200 }, (_, i) => registerRequest(`more-${i}`, alice.record, 300)))
    expect(tally(statuses(beyond))).toEqual({ E_NOT_AUTHORIZED: 200 })
    expect(statuses(await ask(point, alice.peerId, [registerRequest('ns-0', alice.record, 600)]))).toEqual(['OK'])
    expect(statuses(await ask(point, bob.peerId, [registerRequest('more-0', bob.record, 300)]))).toEqual(['OK'])
    expect(await total(point)).toBe(MAX_REGISTRATIONS_PER_PEER + 1)

    // leaving one namespace makes room for exactly one other
    await ask(point, alice.peerId, [unregisterRequest('ns-1')])
    expect(statuses(await ask(point, alice.peerId, [registerRequest('more-1', alice.record, 300), registerRequest('more-2', alice.record, 300)])))
      .toEqual(['OK', 'E_NOT_AUTHORIZED'])
    expect(await total(point)).toBe(MAX_REGISTRATIONS_PER_PEER + 1)
    report('registrations per peer', { accepted: filled.length, refused: beyond.length + 1, held: MAX_REGISTRATIONS_PER_PEER })
  })

  it('total registrations: a full point refuses every new registration with E_UNAVAILABLE and holds exactly its limit', async () => {
    const maxRegistrations = 300
    const point = await startDirect({ maxRegistrations })
    const peers = [await peer(), await peer(), await peer(), await peer()]
    for (const p of peers.slice(0, 3)) {
      const answers = await ask(point, p.peerId, Array.from({ length: 100 }, (_, i) => registerRequest(`ns-${i}`, p.record, 300)))
      expect(tally(statuses(answers))).toEqual({ OK: 100 })
    }
    const newcomer = peers[3]
    const refused = [
      ...await ask(point, newcomer.peerId, Array.from({ length: 200 }, (_, i) => registerRequest(`ns-${i}`, newcomer.record, 300))),
      ...await ask(point, peers[0].peerId, [registerRequest('one-more', peers[0].record, 300)])
    ]
    expect(tally(statuses(refused))).toEqual({ E_UNAVAILABLE: 201 })
    // a refresh takes no new room
    expect(statuses(await ask(point, peers[1].peerId, [registerRequest('ns-5', peers[1].record, 600)]))).toEqual(['OK'])
    expect(await total(point)).toBe(maxRegistrations)

    await ask(point, peers[2].peerId, [unregisterRequest('ns-0')])
    expect(statuses(await ask(point, newcomer.peerId, [registerRequest('ns-0', newcomer.record, 300), registerRequest('ns-1', newcomer.record, 300)])))
      .toEqual(['OK', 'E_UNAVAILABLE'])
    expect(await total(point)).toBe(maxRegistrations)
    report('total registrations', { limit: maxRegistrations, refused: refused.length + 1, held: await total(point) })
  })

  it('total registrations: a full store refuses a REGISTER without looking at the registrations that have not expired', async () => {
    const store = new MemoryRegistrationStore()
    const held = 20_000
    const now = 1_000_000
    const limits = { maxPerPeer: 10, maxTotal: held }
    const registration = (peerId: string, expiresAt: number): NewRegistration => ({ peerId, namespace: 'app', signedPeerRecord: Uint8Array.of(1), seq: 1n, expiresAt })
    for (let i = 0; i < held; i++) {
      expect(await store.register(registration(`peer-${i}`, now + 60_000 + i), limits, now)).toEqual({ ok: true })
    }

    // a sweep must look at every registration's expiry: count the looks
    let looks = 0
    for (const entry of (await store.discover(undefined, 0n, held, now)).registrations) {
      let expiresAt = entry.expiresAt
      Object.defineProperty(entry, 'expiresAt', {
        configurable: true,
        enumerable: true,
        get () { looks++; return expiresAt },
        set (value: number) { expiresAt = value }
      })
    }
    // the count sees what the store sees: one full scan looks at each once
    await store.namespaceStats(now)
    expect(looks).toBe(held)

    looks = 0
    const attempts = 2000
    for (let i = 0; i < attempts; i++) {
      expect(await store.register(registration(`newcomer-${i}`, now + 120_000), limits, now)).toEqual({ ok: false, reason: 'total-limit' })
    }
    const looksWhenRefusing = looks

    // once some have expired, a REGISTER makes room by dropping those, and only those
    looks = 0
    const later = now + 60_000 + 4
    expect(await store.register(registration('late', later + 120_000), limits, later)).toEqual({ ok: true })
    const looksWhenPruning = looks
    expect(await store.namespaceStats(later)).toEqual(new Map([['app', held - 5 + 1]]))

    report('full store', { held, refused: attempts, expiryLooksWhileRefusing: looksWhenRefusing, expiryLooksToDropFive: looksWhenPruning, aSweepWouldLook: held * attempts })
    // a constant per refusal, where a sweep would look at all 20,000 each time
    expect(looksWhenRefusing).toBeLessThanOrEqual(2 * attempts)
    expect(looksWhenPruning).toBeLessThan(1000)
  })

  it(`discover page size: no page holds more than ${MAX_DISCOVER_LIMIT}, whatever limit is asked for, and paging still returns everything once`, async () => {
    const point = await startDirect()
    const [alice, bob, reader] = [await peer(), await peer(), await peer()]
    for (const p of [alice, bob]) {
      const answers = await ask(point, p.peerId, Array.from({ length: 550 }, (_, i) => registerRequest(`ns-${i}`, p.record, 300)))
      expect(tally(statuses(answers))).toEqual({ OK: 550 })
    }
    const limits: Array<bigint | undefined> = [undefined, 0n, 1n, 999n, 1000n, 1001n, 5000n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n]
    const pages = await ask(point, reader.peerId, limits.map(limit => ({ type: Message.MessageType.DISCOVER, discover: { limit } })))
    const sizes = pages.map(page => page.discoverResponse?.registrations.length)
    expect(sizes).toEqual([1000, 1000, 1, 999, 1000, 1000, 1000, 1000, 1000, 1000])
    const largest = Math.max(...pages.map(page => Message.encode(page).byteLength))
    expect(largest).toBeLessThan(MAX_RESPONSE_SIZE)

    const seen: string[] = []
    let cookie: Uint8Array | undefined
    for (let page = 0; page < 10; page++) {
      const [answer] = await ask(point, reader.peerId, [discoverRequest(undefined, 5000, cookie)])
      const registrations = answer.discoverResponse?.registrations ?? []
      expect(registrations.length).toBeLessThanOrEqual(MAX_DISCOVER_LIMIT)
      if (registrations.length === 0) break
      seen.push(...registrations.map(r => r.ns ?? ''))
      cookie = answer.discoverResponse?.cookie
    }
    expect(seen).toHaveLength(1100)

    const small = await startDirect({ maxDiscoverLimit: 10 })
    await ask(small, alice.peerId, Array.from({ length: 20 }, (_, i) => registerRequest(`ns-${i}`, alice.record, 300)))
    const [capped] = await ask(small, reader.peerId, [{ type: Message.MessageType.DISCOVER, discover: { limit: 2n ** 64n - 1n } }])
    expect(capped.discoverResponse?.registrations).toHaveLength(10)
    report('discover page size', { registrations: 1100, askedLimits: limits.map(String), pageSizes: sizes, largestPageBytes: largest, pagedThrough: seen.length })
  })

  it('streams per connection: a peer cannot open more concurrent rendezvous streams than the limit; the extra ones fail, the point keeps serving', async () => {
    // long enough that the held streams stay open for the whole test
    const { address } = await createPoint({ timeout: 60_000 }, 'tcp')
    const mallory = await createClient({}, 'tcp')
    const connection = await mallory.node.dial(address)
    const limit = 8
    const held: Stream[] = []
    for (let i = 0; i < limit; i++) held.push(await connection.newStream(RENDEZVOUS_PROTOCOL))
    const sessions = held.map(rawSession)

    const extra = 4
    let refused = 0
    for (let i = 0; i < extra; i++) {
      try {
        const raw = rawSession(await connection.newStream(RENDEZVOUS_PROTOCOL))
        await raw.request(discoverRequest('app'))
      } catch {
        refused++
      }
    }
    expect(refused).toBe(extra)

    // another peer's connection has its own allowance, in full, at the same time
    const bob = await createClient({}, 'tcp')
    const bobs = await Promise.all(Array.from({ length: limit }, async () => rawSession(await bob.node.dialProtocol(address, RENDEZVOUS_PROTOCOL))))
    const bobsAnswers = await Promise.all(bobs.map(async raw => raw.request(discoverRequest('app'))))
    expect(bobsAnswers.map(a => a.discoverResponse?.status)).toEqual(Array(limit).fill('OK'))

    // the streams within the limit were never disturbed
    const answers = await Promise.all(sessions.map(async raw => raw.request(discoverRequest('app'))))
    expect(answers.map(a => a.discoverResponse?.status)).toEqual(Array(limit).fill('OK'))
    await Promise.all(sessions.map(async raw => { await raw.close(); await raw.ended() }))

    // with its streams closed, the peer may open new ones
    const again = rawSession(await connection.newStream(RENDEZVOUS_PROTOCOL))
    expect((await again.request(discoverRequest('app'))).discoverResponse?.status).toBe('OK')
    report('streams per connection', { limit, held: held.length, extraRefused: refused, otherPeersStreams: bobs.length })
  })

  it('cookie state: issuing and checking cookies leaves nothing behind, however many there are', async () => {
    const point = await startDirect()
    const [alice, reader] = [await peer(), await peer()]
    await ask(point, alice.peerId, [registerRequest('app', alice.record, 3600)])
    const rng = new Random(25)

    const round = async (count: number): Promise<Record<string, number>> => {
      // a cookie per namespace asked about, all different
      const issued = await ask(point, reader.peerId, Array.from({ length: count }, (_, i) => discoverRequest(`ns-${rng.int(2 ** 30)}-${i}`)))
      // valid cookies for 'app' presented back, and forged ones
      const forApp = await ask(point, reader.peerId, Array.from({ length: count }, () => discoverRequest('app')))
      const presented = await ask(point, reader.peerId, forApp.map(answer => discoverRequest('app', undefined, answer.discoverResponse?.cookie)))
      const forged = await ask(point, reader.peerId, Array.from({ length: count }, () => discoverRequest('app', undefined, Uint8Array.from([1, ...rng.bytes(24)]))))
      return { issued: issued.length + forApp.length + presented.length, ...tally(statuses([...presented, ...forged])) }
    }

    // the first round warms up code and caches; then every round must leave memory where it was
    const perRound = 4000
    await round(perRound)
    const retained = [await retainedBytes()]
    const counts: Array<Record<string, number>> = []
    for (let i = 0; i < 4; i++) {
      counts.push(await round(perRound))
      retained.push(await retainedBytes())
    }
    const [before, after] = [retained[0], retained[retained.length - 1]]
    report('cookie state', { rounds: counts, cookiesIssuedAndChecked: counts.length * 4 * perRound, retainedPerRound: retained.map(mib) })
    expect(counts).toEqual(Array(4).fill({ issued: 3 * perRound, OK: perRound, E_INVALID_COOKIE: perRound }))
    expect(await total(point)).toBe(1)
    // a point that kept even a few dozen bytes per cookie it issued would hold over a megabyte more by now
    expect(after - before).toBeLessThan(MiB)
  })

  it('a slow sender: half a frame then silence, or a frame a byte at a time, is reset after the timeout; the point serves others meanwhile', async () => {
    const timeout = 500
    const { address } = await createPoint({ timeout }, 'tcp')
    const mallory = await createClient({}, 'tcp')
    const alice = await createClient({}, 'tcp')

    const halves = await Promise.all(Array.from({ length: 8 }, async () => {
      const raw = rawSession(await mallory.node.dialProtocol(address, RENDEZVOUS_PROTOCOL))
      raw.stream.send(Uint8Array.from([...varint(100), 1, 2, 3]))
      return raw
    }))

    // a whole frame, a byte every 200 ms: it would take far longer than the timeout to arrive
    const body = Message.encode(discoverRequest('a-namespace-to-spell-out'))
    const frame = Uint8Array.from([...varint(body.byteLength), ...body])
    const trickle = rawSession(await alice.node.dialProtocol(address, RENDEZVOUS_PROTOCOL))
    let trickled = 0
    const trickling = (async () => {
      for (const byte of frame) {
        if (trickle.stream.status !== 'open') return
        trickle.stream.send(Uint8Array.of(byte))
        trickled++
        await new Promise(resolve => setTimeout(resolve, 200))
      }
    })()

    // meanwhile, business as usual
    expect(await alice.client.register(address, 'app', { ttl: 300 })).toBe(300)
    expect((await alice.client.discover(address, 'app')).registrations).toHaveLength(1)

    const ends = await Promise.all([...halves, trickle].map(async raw => raw.receiveBytes().then(() => 'answered', (err: Error) => err.name)))
    await trickling
    expect(ends).toEqual(Array(9).fill('StreamResetError'))
    expect(trickled).toBeLessThan(frame.byteLength)

    // the streams that timed out no longer count against mallory's connection
    const again = Array.from({ length: 8 }, async () => rawSession(await mallory.node.dialProtocol(address, RENDEZVOUS_PROTOCOL)).request(discoverRequest('app')))
    expect((await Promise.all(again)).map(a => a.discoverResponse?.status)).toEqual(Array(8).fill('OK'))
    report('slow senders', { timeoutMs: timeout, halfFramesReset: halves.length, trickledBytesBeforeReset: trickled, frameBytes: frame.byteLength })
  }, 30_000)
})
