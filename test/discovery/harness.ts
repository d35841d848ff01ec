/**
 * The discovery service against real rendezvous points (the real server
 * handler, over in-memory stream pairs), with the real client, record code
 * and caches. The only stand-ins are the ones the service is built to take:
 * a manual clock and a manual page visibility. The connection manager and
 * address manager below are thin shims that route a dial to the in-memory
 * point it names, because there is no libp2p node behind a stream pair; for
 * the same reason the network raises `peer:connect` and `peer:disconnect` the
 * way libp2p does (the first dial of a point "connects" it, `disconnect()`
 * closes that).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { rendezvousDiscovery } from '../../src/index.ts'
import { memoryStore } from '../../src/server/store/memory-store.ts'
import { inMemoryPoint } from '../fixtures/in-memory.ts'
import type { Clock, PageLifecycleEvent, RendezvousDiscovery, RendezvousDiscoveryEvents, RendezvousDiscoveryInit, Visibility } from '../../src/index.ts'
import type { RendezvousServerInit } from '../../src/server/rendezvous-server.ts'
import type { RegistrationStore } from '../../src/server/store/registration-store.ts'
import type { ScriptedPoint } from './scripted-point.ts'
import type { InMemoryPoint } from '../fixtures/in-memory.ts'
import type { ComponentLogger, DialTarget, Libp2pEvents, Logger, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import type { AddressManager, ConnectionManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A clock that moves only when told; timers fire in order, each at its own time */
export class ManualClock implements Clock {
  private time: number
  private readonly timers = new Map<number, { at: number, fn(): void }>()
  private nextId = 1

  constructor (start = Date.UTC(2030, 0, 1)) {
    this.time = start
  }

  now (): number {
    return this.time
  }

  setTimeout (fn: () => void, ms: number): number {
    const id = this.nextId++
    this.timers.set(id, { at: this.time + ms, fn })
    return id
  }

  clearTimeout (id: unknown): void {
    this.timers.delete(id as number)
  }

  /** Timers still armed */
  get pending (): number {
    return this.timers.size
  }

  /** Move forward by `ms`, firing every timer due on the way at its own time */
  advance (ms: number): void {
    const target = this.time + ms
    while (true) {
      let next: [number, { at: number, fn(): void }] | undefined
      for (const entry of this.timers) {
        if (entry[1].at <= target && (next == null || entry[1].at < next[1].at)) next = entry
      }
      if (next == null) break
      this.timers.delete(next[0])
      this.time = Math.max(this.time, next[1].at)
      next[1].fn()
    }
    this.time = target
  }

  /** Move the wall clock without firing anything: a clock step, or a machine that slept while timers stood still */
  jump (ms: number): void {
    this.time += ms
  }
}

/** A page whose visibility and lifecycle the test controls */
export class ManualVisibility implements Visibility {
  visible = true
  private readonly listeners = new Set<(event: PageLifecycleEvent) => void>()

  subscribe (listener: (event: PageLifecycleEvent) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  get subscribers (): number {
    return this.listeners.size
  }

  fire (event: PageLifecycleEvent): void {
    if (event === 'visible' || event === 'hidden') this.visible = event === 'visible'
    for (const listener of [...this.listeners]) listener(event)
  }
}

/** Calls a point's store received, by kind: how many REGISTERs, UNREGISTERs and DISCOVER pages it served */
export interface StoreCalls { register: number, unregister: number, discover: number }

/** Wraps a store to count calls; it changes nothing else */
function countingStore (store: RegistrationStore, calls: StoreCalls): RegistrationStore {
  return {
    register: async (...args) => { calls.register++; return store.register(...args) },
    unregister: async (...args) => { calls.unregister++; return store.unregister(...args) },
    discover: async (...args) => { calls.discover++; return store.discover(...args) },
    namespaceStats: async (...args) => store.namespaceStats(...args),
    prune: async (...args) => store.prune(...args)
  }
}

export interface TestPoint {
  id: PeerId
  /** `/dns4/.../p2p/<id>`: only the peer id matters to the in-memory network */
  address: Multiaddr
  /** The real point, when it is one */
  server?: InMemoryPoint
  /** Calls the real point's store received */
  calls: StoreCalls
  /** Streams opened to the point */
  streams: number
  /** Connections asked for on their own (`openConnection`), without a stream */
  dials: number
  /** 'up' serves; 'refuse' fails every dial; 'hang' never answers a dial until its signal aborts */
  mode: 'up' | 'refuse' | 'hang'
  /** One end of a fresh stream to the point, the other end being served */
  open(remotePeer: PeerId): Promise<Stream>
  /** A real point only: start again with an empty store under the same peer id, as a restarted point does */
  restart?(): Promise<void>
}

/** A real rendezvous point (the server handler), with a counting store */
export async function createTestPoint (init: RendezvousServerInit = {}, store: RegistrationStore = memoryStore()): Promise<TestPoint> {
  const calls: StoreCalls = { register: 0, unregister: 0, discover: 0 }
  const server = await inMemoryPoint({ allowEmptyAddresses: true, ...init, store: countingStore(store, calls) })
  const point: TestPoint = {
    id: server.peerId,
    address: multiaddr(`/dns4/point.test/tcp/443/wss/p2p/${server.peerId.toString()}`),
    server,
    calls,
    streams: 0,
    dials: 0,
    mode: 'up',
    open: async (remotePeer) => point.server!.openStream(remotePeer),
    async restart () {
      await point.server!.server.stop()
      // the peer id is only a label to the in-memory network, so the new point answers to the old one
      point.server = await inMemoryPoint({ allowEmptyAddresses: true, ...init, store: countingStore(memoryStore(), calls) })
    }
  }
  return point
}

/** A point that behaves like another implementation (see scripted-point.ts) */
export async function createScriptedTestPoint (script: ScriptedPoint): Promise<TestPoint> {
  const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  return {
    id,
    address: multiaddr(`/dns4/other.test/tcp/443/wss/p2p/${id.toString()}`),
    calls: { register: 0, unregister: 0, discover: 0 },
    streams: 0,
    dials: 0,
    mode: 'up',
    open: async (remotePeer) => {
      const [outbound, inbound] = await streamPair()
      script.handle(inbound, remotePeer)
      return outbound
    }
  }
}

/** Routes dials to the in-memory points by the peer id at the end of the target */
export class TestNetwork {
  readonly points = new Map<string, TestPoint>()
  /** Per node: its events, and the points it is "connected" to */
  private readonly nodes = new Map<string, { events?: TypedEventEmitter<Libp2pEvents>, connected: Set<string> }>()

  add (...points: TestPoint[]): this {
    for (const point of points) this.points.set(point.id.toString(), point)
    return this
  }

  /** Close every node's "connection" to `point`: each node that had one hears `peer:disconnect` */
  disconnect (point: TestPoint): void {
    const key = point.id.toString()
    for (const node of this.nodes.values()) {
      if (node.connected.delete(key)) node.events?.safeDispatchEvent('peer:disconnect', { detail: point.id })
    }
  }

  connectionManager (self: PeerId, events?: TypedEventEmitter<Libp2pEvents>): ConnectionManager {
    const node = { events, connected: new Set<string>() }
    this.nodes.set(self.toString(), node)
    const dial = async (target: DialTarget, options: { signal?: AbortSignal }): Promise<TestPoint> => {
      options.signal?.throwIfAborted()
      const point = this.points.get(targetId(target))
      if (point == null) throw new Error(`no route to ${targetId(target)}`)
      if (point.mode === 'refuse') throw Object.assign(new Error('connection refused'), { name: 'DialError' })
      if (point.mode === 'hang') {
        await new Promise((resolve, reject) => {
          options.signal?.addEventListener('abort', () => { reject(options.signal?.reason) }, { once: true })
        })
      }
      const key = point.id.toString()
      if (!node.connected.has(key)) {
        node.connected.add(key)
        events?.safeDispatchEvent('peer:connect', { detail: point.id })
      }
      return point
    }
    return {
      openStream: async (target: DialTarget, _protocol: string | string[], options: { signal?: AbortSignal } = {}): Promise<Stream> => {
        const point = this.points.get(targetId(target))
        if (point != null) point.streams++
        return (await dial(target, options)).open(self)
      },
      openConnection: async (target: DialTarget, options: { signal?: AbortSignal } = {}): Promise<unknown> => {
        const point = this.points.get(targetId(target))
        if (point != null) point.dials++
        return { remotePeer: (await dial(target, options)).id }
      }
    } as unknown as ConnectionManager
  }
}

function targetId (target: DialTarget): string {
  const address = Array.isArray(target) ? target[0] : target
  return ('getComponents' in address ? address.getComponents().findLast(c => c.name === 'p2p')?.value : address.toString()) ?? ''
}

/** Log lines of one component, formatted loosely, for tests that check what was logged */
export function capturingLogger (lines: string[]): ComponentLogger {
  const make = (name: string): Logger => {
    const log = ((formatter: any, ...args: any[]) => { lines.push(`${name} ${String(formatter)} ${args.map(String).join(' ')}`) }) as Logger
    log.error = (formatter: any, ...args: any[]) => { lines.push(`${name} ERROR ${String(formatter)} ${args.map(a => String(a?.message ?? a)).join(' ')}`) }
    log.trace = () => {}
    log.enabled = true
    log.newScope = (scope: string) => make(`${name}:${scope}`)
    return log
  }
  return { forComponent: make }
}

export interface TestNode {
  service: RendezvousDiscovery
  peerId: PeerId
  privateKey: PrivateKey
  events: TypedEventEmitter<Libp2pEvents>
  /** Replace our addresses and tell the service, as libp2p does (`self:peer:update`, or sooner `transport:listening`) */
  setAddresses(addresses: string[], event?: 'self:peer:update' | 'transport:listening'): void
}

export interface TestNodeOptions {
  privateKey?: PrivateKey
  addresses?: string[]
  logger?: ComponentLogger
}

export async function createTestNode (network: TestNetwork, init: Omit<RendezvousDiscoveryInit, 'points'> & { points?: RendezvousDiscoveryInit['points'] }, options: TestNodeOptions = {}): Promise<TestNode> {
  const privateKey = options.privateKey ?? await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(privateKey)
  let addresses = (options.addresses ?? ['/ip4/198.51.100.1/tcp/4001']).map(a => multiaddr(a))
  const events = new TypedEventEmitter<Libp2pEvents>()
  const addressManager = { getAddresses: () => addresses } as unknown as AddressManager
  const service = rendezvousDiscovery({
    points: [...network.points.values()].map(p => p.address),
    cache: false,
    ...init
  })({
    peerId,
    privateKey,
    addressManager,
    connectionManager: network.connectionManager(peerId, events),
    logger: options.logger ?? defaultLogger(),
    events
  })
  return {
    service,
    peerId,
    privateKey,
    events,
    setAddresses (next, event = 'self:peer:update') {
      addresses = next.map(a => multiaddr(a))
      events.safeDispatchEvent(event, { detail: (event === 'self:peer:update' ? { peer: { id: peerId } } : {}) as any })
    }
  }
}

/** Resolves with the detail of the next `type` event whose detail passes `filter` */
export async function nextEvent<K extends keyof RendezvousDiscoveryEvents> (target: RendezvousDiscovery, type: K, filter: (detail: RendezvousDiscoveryEvents[K]['detail']) => boolean = () => true): Promise<RendezvousDiscoveryEvents[K]['detail']> {
  return new Promise(resolve => {
    const listener = (evt: RendezvousDiscoveryEvents[K]): void => {
      if (!filter(evt.detail)) return
      target.removeEventListener(type, listener as any)
      resolve(evt.detail)
    }
    target.addEventListener(type, listener as any)
  })
}

/** Every `type` event's detail from now on */
export function recordEvents<K extends keyof RendezvousDiscoveryEvents> (target: RendezvousDiscovery, type: K): Array<RendezvousDiscoveryEvents[K]['detail']> {
  const seen: Array<RendezvousDiscoveryEvents[K]['detail']> = []
  target.addEventListener(type, ((evt: RendezvousDiscoveryEvents[K]) => { seen.push(evt.detail) }) as any)
  return seen
}

/**
 * Let pending I/O run: in-memory streams pass data on in zero-delay timers.
 * Used only before checking that something did NOT happen; positive checks
 * wait for the event they expect.
 */
export async function settle (turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) {
    await new Promise(resolve => setTimeout(resolve, 0))
  }
}

/**
 * Resolves once `condition` holds, checking every few milliseconds: for what
 * happens at the far end without telling us (a point handling an UNREGISTER,
 * which has no response). Bounded only by the test's own timeout.
 */
export async function until (condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) {
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

const running: RendezvousDiscovery[] = []

/** Have `stopServices()` stop `service`, for tests that start it step by step */
export function trackService (service: RendezvousDiscovery): void {
  running.push(service)
}

/** Start a test node's service as libp2p does (start, then afterStart); `stopServices()` stops it */
export async function started<T extends { service: RendezvousDiscovery }> (node: T): Promise<T> {
  running.push(node.service)
  await node.service.start()
  node.service.afterStart?.()
  return node
}

/** Stop every service `started()` started, as an `afterEach` */
export async function stopServices (): Promise<void> {
  await Promise.all(running.splice(0).map(async service => service.stop()))
}
