import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { defaultLogger } from '@libp2p/logger'
import { describeFailure } from '../../src/discovery/errors.ts'
import { PeerView } from '../../src/discovery/peers/peer-view.ts'
import { isPointFailure, PointHealth } from '../../src/discovery/points/point-health.ts'
import { parsePoints } from '../../src/discovery/points/points.ts'
import { Backoff } from '../../src/discovery/timing/backoff.ts'
import { documentVisibility } from '../../src/discovery/timing/visibility.ts'
import { ManualClock } from './harness.ts'
import type { PageLifecycleEvent, PointState } from '../../src/index.ts'
import type { Context, Run, Settings } from '../../src/discovery/context.ts'
import type { Sighting } from '../../src/discovery/peers/peer-view.ts'
import type { ConnectionManager } from '@libp2p/interface-internal'

async function peerId (): Promise<ReturnType<typeof peerIdFromPrivateKey>> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

describe('points', () => {
  it('groups addresses of one peer into one point, naming the peer at the end of a relay path', async () => {
    const point = (await peerId()).toString()
    const relay = (await peerId()).toString()
    const points = parsePoints([
      `/dns4/rdv.example/tcp/443/wss/p2p/${point}`,
      multiaddr(`/ip4/192.0.2.1/udp/4001/quic-v1/webtransport/certhash/uEiAkH5a4DPGKUuOBjYw0CgwjvcJCJMD2K_1aluKR_tpevQ/p2p/${point}`),
      `/ip4/192.0.2.2/tcp/4001/p2p/${relay}/p2p-circuit/p2p/${point}`
    ])
    expect(points).toHaveLength(1)
    expect(points[0].key).toBe(point)
    expect(points[0].addresses).toHaveLength(3)
  })

  it('refuses an address that does not say whose it is, or does not parse', () => {
    expect(() => parsePoints(['/ip4/192.0.2.1/tcp/4001'])).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    expect(() => parsePoints(['not a multiaddr'])).toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
  })
})

describe('backoff', () => {
  it('doubles per failure up to the cap, takes up to half off at random, and starts over after a success', () => {
    const random = [0, 0.999, 0, 0, 0, 0]
    const backoff = new Backoff({ initial: 100, max: 400, random: () => random.shift() ?? 0 })
    expect([backoff.delay(1), backoff.delay(2), backoff.delay(3), backoff.delay(4)].map(Math.round)).toEqual([100, 100, 400, 400])
    // the count is each retrier's own: another one starts at the first delay, as does one counting again after a success
    expect(backoff.delay(1)).toBe(100)
  })
})

describe('peer view', () => {
  async function sighting (overrides: Partial<Sighting> = {}): Promise<Sighting> {
    return {
      id: overrides.id ?? await peerId(),
      multiaddrs: [multiaddr('/ip4/192.0.2.1/tcp/1')],
      seq: 1n,
      signedPeerRecord: new Uint8Array([1]),
      certified: true,
      source: 'network',
      points: [['p1', 10_000]],
      ...overrides
    }
  }

  it('keeps the newest record, merges the points, and never goes back to an older record', async () => {
    const view = new PeerView()
    const first = await sighting({ seq: 5n })
    expect(view.upsert('ns', first).change).toBe('added')
    expect(view.upsert('ns', { ...first, seq: 3n, multiaddrs: [], points: [['p2', 20_000]] }).change).toBe('refreshed')
    const newer = view.upsert('ns', { ...first, seq: 6n, multiaddrs: [multiaddr('/ip4/192.0.2.9/tcp/9')], points: [['p1', 10_000]] })
    expect(newer.change).toBe('updated')
    expect(newer.peer.seq).toBe(6n)
    expect(newer.peer.multiaddrs.map(String)).toEqual(['/ip4/192.0.2.9/tcp/9'])
    expect(newer.peer.points.sort()).toEqual(['p1', 'p2'])
    expect(newer.peer.expiresAt).toBe(20_000)
    // a second later is the same registration read again
    expect(view.upsert('ns', { ...first, seq: 6n, points: [['p1', 10_500]] }).change).toBe('unchanged')
  })

  it('of a signed record and a PeerInfo of one peer, the signed one wins whatever their ages; of two PeerInfos, the one registered last, without flipping back', async () => {
    const view = new PeerView()
    const unsigned = await sighting({ certified: false, seq: 0n, points: [['py1', 50_000]] })
    expect(view.upsert('ns', unsigned).change).toBe('added')
    // another py point holds an older PeerInfo (it lapses sooner) with other addresses: it does not take over
    const older = { ...unsigned, multiaddrs: [multiaddr('/ip4/192.0.2.2/tcp/2')], points: [['py2', 20_000]] as Array<[string, number]> }
    expect(view.upsert('ns', older).change).toBe('refreshed')
    // one registered later, with other addresses, does
    const later = { ...unsigned, multiaddrs: [multiaddr('/ip4/192.0.2.3/tcp/3')], points: [['py2', 90_000]] as Array<[string, number]> }
    expect(view.upsert('ns', later).peer.multiaddrs.map(String)).toEqual(['/ip4/192.0.2.3/tcp/3'])
    expect(view.upsert('ns', unsigned).change).toBe('unchanged')

    // a signed record, however old, replaces it; no PeerInfo replaces the signed record
    const signed = { ...unsigned, certified: true, seq: 1n, multiaddrs: [multiaddr('/ip4/192.0.2.9/tcp/9')], points: [['ours', 10_000]] as Array<[string, number]> }
    const replaced = view.upsert('ns', signed)
    expect([replaced.change, replaced.peer.certified, replaced.peer.multiaddrs.map(String)]).toEqual(['updated', true, ['/ip4/192.0.2.9/tcp/9']])
    const after = view.upsert('ns', { ...later, points: [['py2', 200_000]] })
    expect([after.peer.certified, after.peer.seq, after.peer.multiaddrs.map(String)]).toEqual([true, 1n, ['/ip4/192.0.2.9/tcp/9']])
  })

  it('a peer leaves when every point that held it has lapsed, or no longer returns it', async () => {
    const view = new PeerView()
    const a = await sighting({ points: [['p1', 1000], ['p2', 2000]] })
    const b = await sighting({ points: [['p1', 5000]] })
    view.upsert('ns', a)
    view.upsert('ns', b)
    expect(view.nextExpiry()).toBe(1000)
    expect(view.expire(1000)).toEqual([])
    expect(view.expire(2000).map(p => p.id.toString())).toEqual([a.id.toString()])
    expect(view.reconcile('ns', 'p2', new Set())).toEqual([])
    expect(view.reconcile('ns', 'p1', new Set([b.id.toString()]))).toEqual([])
    expect(view.reconcile('ns', 'p1', new Set()).map(p => p.id.toString())).toEqual([b.id.toString()])
    expect(view.peers('ns', 0)).toEqual([])
  })
})

describe('peer view shares', () => {
  it('each point brings in at most its share of peers; a peer that leaves frees its place, and peers already in stay updatable', async () => {
    const view = new PeerView(2)
    const sighting = async (point: string): Promise<Sighting> => ({
      id: await peerId(), multiaddrs: [], seq: 1n, signedPeerRecord: new Uint8Array([1]), certified: true, source: 'network', points: [[point, 10_000]]
    })
    const [a1, a2, a3] = [await sighting('a'), await sighting('a'), await sighting('a')]
    expect([view.upsert('ns', a1).change, view.upsert('ns', a2).change, view.upsert('ns', a3).change]).toEqual(['added', 'added', 'full'])
    // another point still has room, and what a full point returns of known peers still counts
    expect(view.upsert('ns', await sighting('b')).change).toBe('added')
    expect(view.upsert('ns', { ...a1, seq: 2n }).change).toBe('updated')
    expect(view.peers('ns', 0)).toHaveLength(3)
    view.reconcile('ns', 'a', new Set([a1.id.toString()]))
    expect(view.upsert('ns', a3).change).toBe('added')
  })
})

describe('point health', () => {
  it('connecting, ok, error: tells only of changes, and a disconnection of a working point', async () => {
    const clock = new ManualClock(0)
    const [point] = parsePoints([`/dns4/point.test/tcp/443/wss/p2p/${(await peerId()).toString()}`])
    const updates: PointState[] = []
    const context = {
      self: await peerId(),
      log: defaultLogger().forComponent('test'),
      clock,
      settings: { points: [point] } as unknown as Settings,
      emit: (type: string, detail: unknown) => { if (type === 'point:update') updates.push(detail as PointState) }
    } as Context
    const health = new PointHealth(context, {} as ConnectionManager)
    health.start({ signal: new AbortController().signal } as Run)
    const at = (time: number): void => { clock.jump(time - clock.now()) }
    const told = (): PointState | undefined => updates.splice(0).at(-1)

    expect(health.all().map(s => s.status)).toEqual(['connecting'])
    at(1)
    health.answered(point)
    expect(told()?.status).toBe('ok')
    at(2)
    health.answered(point)
    expect(told()).toBeUndefined()
    expect(health.all()[0].lastSuccessAt).toBe(2)
    at(3)
    health.failed(point, Object.assign(new Error('down'), { name: 'DialError' }), 10)
    expect(told()).toMatchObject({ status: 'error', errorName: 'DialError', error: 'down', retryAt: 10, lastSuccessAt: 2 })
    at(4)
    health.failed(point, Object.assign(new Error('down'), { name: 'DialError' }), 10)
    expect(told()).toBeUndefined()
    // a failure nothing retries keeps the retry still to come
    health.failed(point, new Error('gone'))
    expect(told()).toMatchObject({ error: 'gone', retryAt: 10 })
    at(5)
    health.disconnected(point.id)
    expect(told()).toBeUndefined()
    at(6)
    expect(health.connected(point.id)).toBe(point)
    expect(told()).toBeUndefined()
    health.answered(point)
    expect(told()?.status).toBe('ok')
    at(7)
    health.disconnected(point.id)
    expect(told()?.status).toBe('connecting')
    // an answer read after the connection closed is from before it closed
    at(8)
    health.answered(point)
    expect(told()).toBeUndefined()
    expect(health.all()[0]).toMatchObject({ status: 'connecting', lastSuccessAt: 8 })
    at(9)
    expect(health.connected(point.id)).toBe(point)
    expect(told()?.status).toBe('ok')
    expect(health.connected(point.id)).toBeUndefined()
  })

  it('refusals are answers: only failures of the point itself count', () => {
    expect(isPointFailure({ name: 'InvalidTTLError' })).toBe(false)
    expect(isPointFailure({ name: 'NotAuthorizedError' })).toBe(false)
    expect(isPointFailure({ name: 'NoAddressesError' })).toBe(false)
    expect(isPointFailure({ name: 'UnavailableError' })).toBe(true)
    expect(isPointFailure({ name: 'InternalError' })).toBe(true)
    expect(isPointFailure({ name: 'TimeoutError' })).toBe(true)
    expect(isPointFailure(new Event('error'))).toBe(true)
  })

  it('a failed WebSocket dial, which rejects with a bare Event, is told as what it was and where', async () => {
    // the shape a browser's WebSocket gives: an `error` Event whose target is the socket
    class WebSocket extends EventTarget { readonly url = 'ws://127.0.0.1:9/' }
    const socket = new WebSocket()
    const event = await new Promise<Event>(resolve => {
      socket.addEventListener('error', resolve)
      socket.dispatchEvent(new Event('error'))
    })
    expect(describeFailure(event)).toEqual({ error: 'WebSocket error event (ws://127.0.0.1:9/)', errorName: 'Event' })
    expect(describeFailure(new Event('close'))).toEqual({ error: 'unknown close event', errorName: 'Event' })
    expect(describeFailure(Object.assign(new Error('down'), { name: 'DialError' }))).toEqual({ error: 'down', errorName: 'DialError' })

    const clock = new ManualClock(0)
    const [point] = parsePoints([`/dns4/point.test/tcp/443/wss/p2p/${(await peerId()).toString()}`])
    const context = { self: await peerId(), log: defaultLogger().forComponent('test'), clock, settings: { points: [point] } as unknown as Settings, emit: () => {} } as unknown as Context
    const health = new PointHealth(context, {} as ConnectionManager)
    health.start({ signal: new AbortController().signal } as Run)
    health.failed(point, event, 10)
    expect(health.all()[0]).toMatchObject({ status: 'error', error: 'WebSocket error event (ws://127.0.0.1:9/)', errorName: 'Event', retryAt: 10 })
  })
})

describe('document visibility', () => {
  function page (): { doc: EventTarget & { visibilityState: DocumentVisibilityState }, win: EventTarget, events: PageLifecycleEvent[], stop(): void, visible(): boolean } {
    const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' as DocumentVisibilityState })
    const win = new EventTarget()
    const visibility = documentVisibility({ document: doc as unknown as Document, window: win as unknown as Window })
    const events: PageLifecycleEvent[] = []
    const stop = visibility.subscribe(event => events.push(event))
    return { doc, win, events, stop, visible: () => visibility.visible }
  }

  function transition (type: string, persisted: boolean): Event {
    return Object.assign(new Event(type), { persisted })
  }

  it('maps visibility, freeze/resume, network, bfcache and unload events to what timers need', () => {
    const p = page()
    p.doc.visibilityState = 'hidden'
    p.doc.dispatchEvent(new Event('visibilitychange'))
    expect(p.visible()).toBe(false)
    p.doc.dispatchEvent(new Event('resume'))
    p.win.dispatchEvent(new Event('online'))
    p.win.dispatchEvent(transition('pagehide', true))
    p.win.dispatchEvent(transition('pageshow', true))
    p.win.dispatchEvent(transition('pageshow', false))
    p.win.dispatchEvent(new Event('beforeunload'))
    p.win.dispatchEvent(transition('pagehide', false))
    p.doc.visibilityState = 'visible'
    p.doc.dispatchEvent(new Event('visibilitychange'))
    expect(p.events).toEqual(['hidden', 'resume', 'resume', 'resume', 'leave', 'exit', 'visible'])

    p.stop()
    p.doc.dispatchEvent(new Event('visibilitychange'))
    p.win.dispatchEvent(new Event('beforeunload'))
    expect(p.events).toHaveLength(7)
  })

  it('outside a page, is always visible', () => {
    const visibility = documentVisibility()
    expect(visibility.visible).toBe(true)
    visibility.subscribe(() => { throw new Error('never called') })()
  })
})
