/**
 * The time-to-first-peer page. It does nothing on its own: the benchmark
 * calls `window.bench.<run>()` through Playwright, so page loading and module
 * parsing stay out of every figure, which all start at the libp2p node's
 * `start()`. Each run returns its phases in milliseconds from that start.
 */
import { generateKeyPair, privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { fromString } from 'uint8arrays/from-string'
import { idbCache, rendezvousDiscovery } from '../../src/index.ts'
import { openPeerRecord } from '../../src/protocol/peer-record.ts'
import { minimalNode } from './minimal-node.ts'
import type { BenchApi, CachedEntry, RunInit, RunResult } from './protocol.ts'
import type { PeerSource, RegistrationCacheFactory } from '../../src/index.ts'
import type { Libp2p, PrivateKey } from '@libp2p/interface'

// browsers refuse ws:// and loopback addresses by default; the bench point is both
const localGater = { denyDialMultiaddr: () => false }

/** A DISCOVER request, encoded by hand so that the floor uses no SDK code at all */
function discoverFrame (namespace: string, limit: number): Uint8Array {
  const ns = new TextEncoder().encode(namespace)
  // Discover { ns = 1, limit = 2 }, both under 128 bytes/values here
  const discover = [0x0a, ns.length, ...ns, 0x10, limit]
  // Message { type = 1: DISCOVER (3), discover = 5 }
  return Uint8Array.from([0x08, 3, 0x2a, discover.length, ...discover])
}

async function keyOf (init: RunInit): Promise<PrivateKey> {
  return init.key != null ? privateKeyFromProtobuf(fromString(init.key, 'base64')) : generateKeyPair('Ed25519')
}

/** Milliseconds since `t0` at which the node first opened a connection */
function connectedAt (node: Libp2p<any>, t0: number): Promise<number> {
  return new Promise(resolve => {
    node.addEventListener('connection:open', () => { resolve(performance.now() - t0) }, { once: true })
  })
}

/** Stop the node without letting a slow stop hold up the next run */
async function dispose (node: Libp2p<any>): Promise<void> {
  await Promise.race([node.stop(), new Promise(resolve => setTimeout(resolve, 2000))]).catch(() => {})
}

/** A bare node: dial the point and do one raw DISCOVER on a stream, no SDK */
async function floor (init: RunInit): Promise<RunResult> {
  const node = await createLibp2p({ ...minimalNode(), privateKey: await keyOf(init), connectionGater: localGater, start: false })
  const t0 = performance.now()
  const connected = connectedAt(node, t0)
  await node.start()
  const started = performance.now() - t0
  const connection = await node.dial(multiaddr(init.point))
  const stream = await connection.newStream('/rendezvous/1.0.0')
  const lp = lpStream(stream)
  await lp.write(discoverFrame(init.namespace, init.limit))
  const response = await lp.read()
  const ms = performance.now() - t0
  await stream.close()
  await dispose(node)
  return { ms, started, connected: await connected, responseBytes: response.byteLength }
}

/**
 * The SDK's own IndexedDB cache, with the moment each read finished noted in
 * `marks` (milliseconds from `t0()`): through the public cache option, so the
 * SDK runs exactly as it would with its default.
 */
function timedCache (marks: Record<string, number>, t0: () => number): RegistrationCacheFactory {
  return (self) => {
    const cache = idbCache()(self)
    const timed = <T>(name: string, read: Promise<T>): Promise<T> => read.finally(() => { marks[name] ??= performance.now() - t0() })
    return {
      loadSeq: async (options) => timed('seqRead', cache.loadSeq(options)),
      loadRegistrations: async (namespace, options) => timed('registrationsRead', cache.loadRegistrations(namespace, options)),
      peekRegistrations: (namespace) => cache.peekRegistrations?.(namespace) ?? [],
      saveRegistrations: async (namespace, registrations, options) => cache.saveRegistrations(namespace, registrations, options),
      clearRegistrations: async (namespace, options) => cache.clearRegistrations(namespace, options),
      saveSeq: async (seq, options) => cache.saveSeq(seq, options)
    }
  }
}

/** The SDK: from `start()` to its first `peer` event, from the network (empty cache) or the cache */
async function sdk (init: RunInit): Promise<RunResult> {
  const marks: Record<string, number> = {}
  let t0 = 0
  const node = await createLibp2p({
    ...minimalNode(),
    privateKey: await keyOf(init),
    connectionGater: localGater,
    start: false,
    services: {
      ...minimalNode().services,
      rendezvous: rendezvousDiscovery({ points: [init.point], namespaces: [init.namespace], limit: init.limit, cache: timedCache(marks, () => t0) })
    }
  })
  let source: PeerSource | undefined
  node.services.rendezvous.addEventListener('peer:update', (evt) => { source ??= evt.detail.peer.source })
  t0 = performance.now()
  const firstPeer = new Promise<number>(resolve => {
    node.services.rendezvous.addEventListener('peer', () => { resolve(performance.now() - t0) }, { once: true })
  })
  const connected = connectedAt(node, t0)
  await node.start()
  const started = performance.now() - t0
  const ms = await firstPeer
  const result: RunResult = { ms, started, source, seqRead: marks.seqRead, registrationsRead: marks.registrationsRead }
  // a warm start finds its peer before any connection; only wait for one that happened
  result.connected = await Promise.race([connected, Promise.resolve(undefined)])
  await dispose(node)
  return result
}

/** Put `entries` into the SDK's IndexedDB cache of the node with `key`, as an earlier visit would have */
async function fill (init: RunInit, entries: CachedEntry[]): Promise<void> {
  const self = peerIdFromPrivateKey(await keyOf(init))
  const cache = idbCache()(self)
  await cache.saveRegistrations(init.namespace, entries.map(e => ({
    peerId: e.peerId,
    signedPeerRecord: fromString(e.record, 'base64'),
    expiresAt: e.expiresAt,
    points: [[e.point, e.expiresAt]]
  })))
}

/** Where a warm start's time goes: reading the cache back, and verifying every record in it */
async function probe (init: RunInit): Promise<{ cacheRead: number, verify: number }> {
  const cache = idbCache()(peerIdFromPrivateKey(await keyOf(init)))
  let t0 = performance.now()
  const entries = await cache.loadRegistrations(init.namespace)
  const cacheRead = performance.now() - t0
  t0 = performance.now()
  await Promise.all(entries.map(async e => openPeerRecord(e.signedPeerRecord)))
  return { cacheRead, verify: performance.now() - t0 }
}

const api: BenchApi = { floor, cold: sdk, warm: sdk, fill, probe }
;(globalThis as { bench?: BenchApi }).bench = api
