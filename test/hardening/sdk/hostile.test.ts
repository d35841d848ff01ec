/**
 * Hostile answers to the SDK: a point that returns forged, tampered,
 * duplicated, expired, self or absurd-TTL registrations, more than was asked
 * for, pages for ever, garbage, a frame too big to read, or nothing at all.
 * Each runs next to an honest point (the real point handler) with a peer of
 * its own, and the service must emit only verified, unexpired peers, throw
 * nothing out of a timer or handler, and keep serving the honest point.
 *
 * In-memory streams, a manual clock and visibility (stand-ins the service
 * takes for tests); everything else is the real service, client and codec.
 */
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RendezvousClientService } from '../../../src/client/rendezvous-client.ts'
import { MAX_RESPONSE_SIZE, MAX_TTL } from '../../../src/constants.ts'
import { Message } from '../../../src/pb/rendezvous.ts'
import { discoverOk, registerOk } from '../../../src/protocol/messages.ts'
import { createTestNode, createTestPoint, ManualClock, ManualVisibility, nextEvent, recordEvents, settle, started, stopServices, TestNetwork, until } from '../../discovery/harness.ts'
import { inMemoryClient } from '../../fixtures/in-memory.ts'
import { newKey, signRecord, tamper } from '../../fixtures/records.ts'
import { varint } from '../../fixtures/wire.ts'
import { createHostilePoint, frame } from './hostile-point.ts'
import { Random, report, watchProcess } from './support.ts'
import type { Reply, HostilePoint, Script } from './hostile-point.ts'
import type { RendezvousDiscoveryInit } from '../../../src/index.ts'
import type { Request } from '../../../src/protocol/messages.ts'
import type { TestNode, TestPoint } from '../../discovery/harness.ts'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { AddressManager } from '@libp2p/interface-internal'

const watch = watchProcess()
afterAll(() => { watch.stop() })
beforeAll(() => { watch.failures.splice(0) })
afterEach(async () => {
  await stopServices()
  // nothing escaped: no throw out of a timer or handler, no rejection nobody handled
  expect(watch.failures).toEqual([])
})

const SETTINGS = {
  namespaces: ['app'],
  // real milliseconds: how long a silent point is given; nothing here waits for it in a test's stead
  timeout: 100,
  unregisterTimeout: 100,
  retryDelay: 1000,
  maxRetryDelay: 8000,
  discoverInterval: 10_000
} satisfies Partial<RendezvousDiscoveryInit>

interface Rig {
  clock: ManualClock
  honest: TestPoint
  hostile: HostilePoint
  node: TestNode
  /** Registered at the honest point before the node started */
  honestPeer: PeerId
  init: Partial<RendezvousDiscoveryInit> & typeof SETTINGS
}

async function registerAt (point: TestPoint, namespace = 'app', privateKey?: PrivateKey): Promise<PeerId> {
  const peer = await inMemoryClient(point.server!, {}, privateKey)
  await peer.client.register(point.id, namespace, { ttl: 7200 })
  return peer.peerId
}

async function rig (script: Script, init: Partial<RendezvousDiscoveryInit> = {}, privateKey?: PrivateKey): Promise<Rig> {
  const clock = new ManualClock()
  const honest = await createTestPoint({ now: () => clock.now() })
  const honestPeer = await registerAt(honest)
  const hostile = await createHostilePoint(script)
  const settings = { ...SETTINGS, ...init }
  const node = await createTestNode(new TestNetwork().add(honest, hostile), { ...settings, clock, visibility: new ManualVisibility() }, { privateKey })
  return { clock, honest, hostile, node, honestPeer, init: settings }
}

/**
 * Let `count` rounds go by, each long enough for every task (polls and retries,
 * however far backed off) to come due again; each waits until the hostile
 * point has been asked again and every stream to it has ended, however it ended.
 */
async function rounds (r: Rig, count: number): Promise<void> {
  const step = Math.max(r.init.discoverInterval, r.init.maxRetryDelay)
  for (let i = 0; i < count; i++) {
    const asked = r.hostile.requests.length
    r.clock.advance(step)
    await until(() => r.hostile.requests.length > asked && r.hostile.live === 0)
    await settle()
  }
}

/** The honest point still works for us: registered there, and a peer that registers there now is found */
async function honestStillServes (r: Rig): Promise<void> {
  const registered = r.node.service.getRegistrations().find(s => s.point.equals(r.honest.id))
  expect(registered?.status).toBe('registered')
  expect(r.node.service.getPeers('app').some(p => p.id.equals(r.honestPeer))).toBe(true)
  const late = await registerAt(r.honest)
  const found = nextEvent(r.node.service, 'peer', peer => peer.id.equals(late))
  r.clock.advance(r.init.discoverInterval)
  expect((await found).id.equals(late)).toBe(true)
  expect(r.node.service.getPoints().find(s => s.point.equals(r.honest.id))?.status).toBe('ok')
}

/** Whatever the request, answer `reply` (REGISTERs too) */
function always (reply: (request: Request) => Reply): Script {
  return request => request.type === 'UNREGISTER' ? 'close' : reply(request)
}

/** An honest answer to REGISTER, `discover` to DISCOVER */
function discovering (discover: (request: Request) => Reply | Promise<Reply>): Script {
  return async request => {
    if (request.type === 'REGISTER') return { message: registerOk(request.ttl ?? 7200) }
    if (request.type === 'UNREGISTER') return 'close'
    return discover(request)
  }
}

function page (entries: Array<{ record: Uint8Array, ttl?: bigint, ns?: string }>, cookie?: Uint8Array): Reply {
  return {
    message: {
      type: Message.MessageType.DISCOVER_RESPONSE,
      discoverResponse: {
        status: Message.ResponseStatus.OK,
        cookie: cookie as Uint8Array<ArrayBuffer> | undefined,
        registrations: entries.map(e => ({ ns: e.ns ?? 'app', signedPeerRecord: e.record as Uint8Array<ArrayBuffer>, ttl: e.ttl ?? 3600n }))
      }
    }
  }
}

function cookieOf (n: number): Uint8Array {
  const cookie = new Uint8Array(8)
  new DataView(cookie.buffer).setUint32(0, n)
  return cookie
}

/** `count` peers with valid records, as anyone can make them */
async function mint (count: number): Promise<Array<{ id: PeerId, record: Uint8Array }>> {
  return Promise.all(Array.from({ length: count }, async () => {
    const key = await newKey()
    return { id: peerIdFromPrivateKey(key), record: await signRecord(key) }
  }))
}

/** The low-level client, with `point` as the only point it can reach */
async function clientOf (point: TestPoint): Promise<RendezvousClientService> {
  const privateKey = await newKey()
  const peerId = peerIdFromPrivateKey(privateKey)
  return new RendezvousClientService({
    peerId,
    privateKey,
    addressManager: { getAddresses: () => [] } as unknown as AddressManager,
    connectionManager: new TestNetwork().add(point).connectionManager(peerId),
    logger: defaultLogger()
  })
}

function ids (peers: Array<{ id: PeerId }>): string[] {
  return [...new Set(peers.map(p => p.id.toString()))].sort()
}

describe('hostile answers to the SDK', () => {
  it('forged, tampered, garbled, wrong-namespace, self, expired, absurd-TTL and duplicated registrations: only verified, unexpired peers come out', async () => {
    const nodeKey = await newKey()
    const [alice, eve, carol, dave, erin, frank, grace] = await Promise.all(Array.from({ length: 7 }, async () => newKey()))
    const id = (key: PrivateKey): PeerId => peerIdFromPrivateKey(key)
    const random = new Random(3)
    const hostileEntries = [
      // eve signs a record that says it is alice
      { record: await signRecord(eve, { peerId: id(alice) }) },
      // alice's record with other addresses put in after signing
      { record: tamper(await signRecord(alice)) },
      { record: await signRecord(alice, { payloadType: new TextEncoder().encode('/not/a/peer-record') }) },
      { record: await signRecord(alice, { domain: 'not-the-peer-record-domain' }) },
      { record: random.bytes(96) },
      { record: new Uint8Array(0) },
      // our own record, signed with our own key
      { record: await signRecord(nodeKey) },
      // carol's registration has lapsed
      { record: await signRecord(carol), ttl: 0n },
      // dave's TTL is absurd (rust's u64::MAX, nim's wrap-around)
      { record: await signRecord(dave), ttl: 2n ** 64n - 1n },
      // erin five times over, in no order, each record twice
      ...await Promise.all([3n, 1n, 5n, 2n, 4n, 5n, 1n, 3n, 2n, 4n].map(async seq => ({ record: await signRecord(erin, { seq }) }))),
      // frank is valid, but in another namespace
      { record: await signRecord(frank), ns: 'other' },
      { record: await signRecord(grace) }
    ]
    const r = await rig(discovering(() => page(hostileEntries)), {}, nodeKey)
    const emitted = recordEvents(r.node.service, 'peer')
    const updates = recordEvents(r.node.service, 'peer:update')
    await started(r.node)
    await rounds(r, 3)

    const expected = ids([{ id: r.honestPeer }, { id: id(dave) }, { id: id(erin) }, { id: id(grace) }])
    expect(ids(r.node.service.getPeers('app'))).toEqual(expected)
    expect(ids(emitted)).toEqual(expected)
    expect(ids(updates.map(u => u.peer))).toEqual(expected)
    const now = r.clock.now()
    for (const peer of r.node.service.getPeers('app')) {
      expect(peer.expiresAt).toBeGreaterThan(now)
      expect(peer.expiresAt).toBeLessThanOrEqual(now + MAX_TTL * 1000)
    }
    expect(r.node.service.getPeers('app').find(p => p.id.equals(id(erin)))?.seq).toBe(5n)
    // erin's record only ever gets newer, however the pages order them
    const erinSeqs = updates.filter(u => u.peer.id.equals(id(erin))).map(u => u.peer.seq)
    expect(erinSeqs).toEqual([...erinSeqs].sort((a, b) => Number(a - b)))
    await honestStillServes(r)

    const served = r.hostile.requests.filter(q => q.type === 'DISCOVER').length
    report('bad registrations', {
      'pages served': served,
      'entries served': served * hostileEntries.length,
      'peers emitted': ids(emitted).length,
      'peer events': emitted.length,
      'in view': r.node.service.getPeers('app').length
    })
  })

  const random = new Random(7)
  /** `asked`: how many `discover()` calls to make on top of the background work, each of which the hostile point answers its way */
  const broken: Array<{ name: string, reply: (request: Request) => Reply, errors: string[], asked: number }> = [
    {
      name: 'garbage frames',
      // half behind a length prefix that fits, half raw bytes (whatever prefix they spell)
      reply: () => {
        const body = random.bytes(1 + random.int(200))
        return { bytes: random.next() < 0.5 ? frame(body) : body }
      },
      errors: ['InvalidMessageError', 'InvalidDataLengthError', 'UnexpectedEOFError', 'NoResponseError', 'TimeoutError', 'AbortError'],
      asked: 1000
    },
    {
      name: 'a frame over the size cap',
      reply: () => ({ bytes: Uint8Array.from([...varint(MAX_RESPONSE_SIZE + 1), ...random.bytes(1024)]) }),
      errors: ['InvalidDataLengthError'],
      asked: 100
    },
    {
      name: 'an answer of the wrong kind',
      reply: request => ({ message: request.type === 'REGISTER' ? discoverOk([], cookieOf(1)) : registerOk(7200) }),
      errors: ['InvalidMessageError'],
      asked: 200
    },
    // each of these waits out the (real) timeout, so fewer
    { name: 'silence, with the stream left open', reply: () => 'silent', errors: ['TimeoutError', 'AbortError'], asked: 10 },
    { name: 'the stream closed without a word', reply: () => 'close', errors: ['NoResponseError'], asked: 200 },
    { name: 'the stream reset', reply: () => 'reset', errors: ['StreamResetError'], asked: 200 }
  ]

  for (const { name, reply, errors, asked } of broken) {
    it(`${name}: the point is reported failing, with backoff, and the honest one keeps serving`, async () => {
      const r = await rig(always(reply))
      const states = recordEvents(r.node.service, 'point:update')
      await started(r.node)
      await rounds(r, 6)

      // asked directly too: every round still merges in what the honest point has
      for (let i = 0; i < asked; i++) {
        expect(ids(await r.node.service.discover('app'))).toContain(r.honestPeer.toString())
      }
      await until(() => r.hostile.live === 0)

      const state = r.node.service.getPoints().find(s => s.point.equals(r.hostile.id))!
      expect(state.status).toBe('error')
      expect(errors).toContain(state.errorName)
      expect(state.retryAt).toBeGreaterThan(r.clock.now())
      const failed = r.node.service.getRegistrations().find(s => s.point.equals(r.hostile.id))!
      expect(failed.status).toBe('error')
      expect(errors).toContain(failed.errorName)
      expect(r.node.service.getPeers('app').every(p => p.points.every(point => point === r.honest.id.toString()))).toBe(true)
      await honestStillServes(r)
      report(name, {
        'answers served': r.hostile.requests.length,
        'point errors': [...new Set(states.filter(s => s.point.equals(r.hostile.id) && s.status === 'error').map(s => s.errorName))].join(' '),
        'registration error': failed.errorName ?? ''
      })
    })
  }

  it('a point that takes registrations but fails every DISCOVER is reported failing all the same', async () => {
    const r = await rig(discovering(() => 'reset'))
    await started(r.node)
    await rounds(r, 3)
    expect(r.node.service.getRegistrations().find(s => s.point.equals(r.hostile.id))?.status).toBe('registered')
    const state = r.node.service.getPoints().find(s => s.point.equals(r.hostile.id))!
    expect(state).toMatchObject({ status: 'error', errorName: 'StreamResetError' })
    expect(state.retryAt).toBeGreaterThan(r.clock.now())
    await honestStillServes(r)
  })

  it('a point that always has another full page: every walk stops at maxPages, and more than asked is not read', async () => {
    const pool = await mint(400)
    const limit = 10
    const maxPages = 4
    let served = 0
    // every page is three times what was asked for, of peers not seen before, with a fresh cookie
    const r = await rig(discovering(() => {
      const start = (served * 3 * limit) % pool.length
      served++
      return page(pool.slice(start, start + 3 * limit), cookieOf(served))
    }), { limit, maxPages })
    await started(r.node)
    const perRound: number[] = []
    for (let i = 0; i < 4; i++) {
      const before = served
      await rounds(r, 1)
      perRound.push(served - before)
    }
    expect(Math.max(...perRound)).toBeLessThanOrEqual(maxPages)
    // each page gave no more than was asked for
    const fromHostile = r.node.service.getPeers('app').filter(p => p.points.includes(r.hostile.id.toString()))
    expect(fromHostile.length).toBeLessThanOrEqual(served * limit)

    // asked directly, the walks end too
    const before = served
    let yielded = 0
    for await (const _ of r.node.service.discoverAll('app', { pageSize: limit })) yielded++
    expect(served - before).toBe(maxPages)
    expect(yielded).toBeGreaterThan(0)
    // and so does the low-level client's
    const counted = served
    for await (const _ of (await clientOf(r.hostile)).discoverAll(r.hostile.id, 'app', { pageSize: limit, maxPages: 3 }));
    const pages = served - counted
    expect(pages).toBe(3)
    await honestStillServes(r)
    report('never-ending pages, three times too big', {
      'pages served': served,
      'pages per poll (max)': Math.max(...perRound),
      'registrations served': served * 3 * limit,
      'peers taken from it': fromHostile.length
    })
  })

  it('a point that mints new valid peers without end fills only its share of the view; the honest point keeps its peers', async () => {
    const pool = await mint(300)
    let served = 0
    const maxPeers = 40
    const r = await rig(discovering(() => {
      const start = (served * 20) % pool.length
      served++
      return page(pool.slice(start, start + 20), cookieOf(served))
    }), { limit: 20, maxPages: 3, maxPeers })
    const emitted = recordEvents(r.node.service, 'peer')
    await started(r.node)
    await rounds(r, 5)

    const fromHostile = r.node.service.getPeers('app').filter(p => !p.id.equals(r.honestPeer))
    // two points: each may bring in half
    expect(fromHostile.length).toBe(maxPeers / 2)
    expect(ids(emitted).length).toBeLessThanOrEqual(maxPeers / 2 + 1)
    await honestStillServes(r)
    report('endless fresh peers', {
      'pages served': served,
      'distinct peers served': Math.min(served * 20, pool.length),
      'peers in view': r.node.service.getPeers('app').length,
      'peer events': emitted.length
    })
  })

  it('a point that grants a TTL of 0: refreshes back off instead of hammering it', async () => {
    const r = await rig(request => {
      if (request.type === 'REGISTER') return { message: registerOk(0) }
      if (request.type === 'UNREGISTER') return 'close'
      return page([])
    }, { retryDelay: 5000, maxRetryDelay: 300_000 })
    await started(r.node)
    await until(() => r.hostile.requests.some(q => q.type === 'REGISTER'))
    const hour = 3_600_000
    const step = 10_000
    for (let waited = 0; waited < hour; waited += step) {
      r.clock.advance(step)
      await settle(2)
    }
    const registers = r.hostile.requests.filter(q => q.type === 'REGISTER').length
    // at least half the backoff each time: 2.5 s, 5 s, 10 s... up to 150 s, and the clock may pass a deadline by a step
    let allowed = 1
    for (let spent = 2500, wait = 2500; spent <= hour; wait = Math.min(wait * 2, 150_000), spent += wait) allowed++
    expect(registers).toBeGreaterThan(1)
    expect(registers).toBeLessThanOrEqual(allowed)
    await honestStillServes(r)
    report('ttl 0 on REGISTER', { 'hour of clock': 1, REGISTERs: registers, 'allowed by the backoff': allowed, 'with a 1 s floor it would be': hour / 1000 })
  })
})
