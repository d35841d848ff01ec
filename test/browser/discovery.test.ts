/**
 * The discovery service in real Chromium: real IndexedDB, real WebSockets,
 * against a real rendezvous point (and circuit relay) started in Node by the
 * global setup. Browser nodes cannot listen, so they wait for a relay
 * address, register with it, and find each other.
 *
 * A "reload" here is what a page reload does to this service: the node
 * stops and a new one starts with the same private key, reading the same
 * IndexedDB (one page, one origin).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { idbCache, peerInfoSchema, systemClock } from '../../src/index.ts'
import { encodePeerInfo } from '../../src/protocol/peer-info.ts'
import { browserNode, cachedIn, capture, firstVisit, hour, namespace, peerEvent, registered } from './nodes.ts'
import type { DiscoveredPeer, PeerViewUpdate } from '../../src/index.ts'
import type { PeerId, PrivateKey } from '@libp2p/interface'

describe('in Chromium', () => {
  it('two nodes register in one namespace through a real point, and each gets a peer event for the other', async () => {
    const ns = namespace('pair')
    const a = await browserNode({ namespaces: [ns], discoverInterval: 200 })
    const b = await browserNode({ namespaces: [ns], discoverInterval: 200 })
    const statuses: string[] = []
    a.services.rendezvous.addEventListener('registration:update', (evt) => { statuses.push(evt.detail.status) })
    const aFindsB = peerEvent(a, b.peerId)
    const bFindsA = peerEvent(b, a.peerId)

    await Promise.all([a.start(), b.start()])
    await Promise.all([aFindsB, bFindsA])

    // no address at first: nothing was sent until the relay reservation gave us one
    expect(statuses[0]).toBe('waiting-for-addresses')
    const [seenByB] = b.services.rendezvous.getPeers(ns)
    expect(seenByB.id.equals(a.peerId)).toBe(true)
    expect(seenByB.multiaddrs.some(ma => ma.toString().includes('/p2p-circuit'))).toBe(true)

    // each node has its own database, holding the other
    await Promise.all([a.stop(), b.stop()])
    expect((await cachedIn(a.peerId, ns))?.map(e => e.peerId)).toEqual([b.peerId.toString()])
    expect((await cachedIn(b.peerId, ns))?.map(e => e.peerId)).toEqual([a.peerId.toString()])
  })

  it('after a reload, emits the cached peers before the network answers, then confirms them', async () => {
    const ns = namespace('reload')
    const { a, key } = await firstVisit(ns)

    const after = await browserNode({ namespaces: [ns] }, { privateKey: key })
    const updates: PeerViewUpdate[] = []
    after.services.rendezvous.addEventListener('peer:update', (evt) => { updates.push(evt.detail) })
    const confirmed = new Promise<DiscoveredPeer>(resolve => {
      after.services.rendezvous.addEventListener('peer:update', (evt) => {
        if (evt.detail.peer.source === 'network') resolve(evt.detail.peer)
      })
    })
    await after.start()
    // emitted while starting, before any request could have been answered
    expect(updates.length).toBeGreaterThan(0)
    expect([updates[0].peer.id.toString(), updates[0].peer.source]).toEqual([a.peerId.toString(), 'cache'])
    expect((await confirmed).id.equals(a.peerId)).toBe(true)
    expect(updates.map(u => u.peer.source)).toEqual(['cache', 'network'])
  })

  it('after a reload, shows a cached peer while libp2p is still starting, before a task queued ahead of it could run', async () => {
    const ns = namespace('first-look')
    const { a, key } = await firstVisit(ns)

    const after = await browserNode({ namespaces: [ns] }, { privateKey: key })
    const order: string[] = []
    after.services.rendezvous.addEventListener('peer', (evt) => { order.push(`peer ${evt.detail.id.toString()}`) })
    // a task queued now runs once libp2p's start yields; IndexedDB and WebCrypto answer as tasks too
    setTimeout(() => { order.push('task') }, 0)
    const starting = Promise.resolve(after.start()).then(() => { order.push('started') })
    await starting
    await new Promise(resolve => setTimeout(resolve, 0))
    // the peer before libp2p has finished starting, and before the task queued ahead of it could run
    expect(order[0]).toBe(`peer ${a.peerId.toString()}`)
    expect(order.slice(1).sort()).toEqual(['started', 'task'])
  })

  it('never emits cached peers whose registration has lapsed, and prunes them', async () => {
    const ns = namespace('lapsed')
    const a = await browserNode({ namespaces: [ns] })
    await a.start()
    await registered(a)
    const key = await generateKeyPair('Ed25519')
    const first = await browserNode({ namespaces: [ns], ttl: 600 }, { privateKey: key })
    const found = peerEvent(first, a.peerId)
    await first.start()
    await found
    await first.stop()
    expect(await cachedIn(first.peerId, ns)).toHaveLength(1)

    // three hours later, with the point out of reach: only the cache could say anything
    const later = { ...systemClock, now: () => Date.now() + 3 * hour }
    const unreachable = `/ip4/127.0.0.1/tcp/9/ws/p2p/${peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()}`
    const again = await browserNode({ namespaces: [ns], points: [unreachable], clock: later, unregisterTimeout: 100 }, { privateKey: key })
    const emitted: unknown[] = []
    again.services.rendezvous.addEventListener('peer', (evt) => { emitted.push(evt.detail) })
    await again.start()
    expect(emitted).toEqual([])
    expect(again.services.rendezvous.getPeers(ns)).toEqual([])
    await again.stop()
    expect(await cachedIn(first.peerId, ns)).toBeUndefined()
  })

  it('when the page is unloaded for good (pagehide, not kept in the bfcache), unregisters; when kept, does not', async () => {
    const ns = namespace('pagehide')
    const a = await browserNode({ namespaces: [ns] })
    const b = await browserNode({})
    await Promise.all([a.start(), b.start()])
    await registered(a)
    const peersIn = async (): Promise<string[]> => (await b.services.rendezvous.findPeers(ns, { forceRefresh: true })).map(p => p.id.toString())
    expect(await peersIn()).toEqual([a.peerId.toString()])

    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }))
    expect(await peersIn()).toEqual([a.peerId.toString()])

    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }))
    // UNREGISTER has no answer: ask until the point has handled it
    while ((await peersIn()).length > 0) await new Promise(resolve => setTimeout(resolve, 20))
    expect(a.services.rendezvous.getRegistrations()).toEqual([])
  })

  it('a node that only registers (nothing else would connect to the point) dials it to get a relay address, then registers', async () => {
    const ns = namespace('reach')
    // no namespaces to poll: discovery never dials the point, and a REGISTER needs an address first
    const a = await browserNode({})
    const b = await browserNode({})
    await Promise.all([a.start(), b.start()])
    await expect(a.services.rendezvous.register(ns)).rejects.toHaveProperty('name', 'NoAddressesError')
    const state = await registered(a)
    expect(state.namespace).toBe(ns)
    expect(a.getMultiaddrs().some(ma => ma.toString().includes('/p2p-circuit'))).toBe(true)
    expect((await b.services.rendezvous.findPeers(ns)).map(p => p.id.toString())).toEqual([a.peerId.toString()])
  })

  it('on beforeunload, unregisters at once; back from the bfcache (pageshow, persisted), registers again', async () => {
    const ns = namespace('beforeunload')
    const a = await browserNode({ namespaces: [ns] })
    const b = await browserNode({})
    await Promise.all([a.start(), b.start()])
    await registered(a)
    const peersIn = async (): Promise<string[]> => (await b.services.rendezvous.findPeers(ns, { forceRefresh: true })).map(p => p.id.toString())
    expect(await peersIn()).toEqual([a.peerId.toString()])

    window.dispatchEvent(new Event('beforeunload'))
    // UNREGISTER has no answer: ask until the point has handled it
    while ((await peersIn()).length > 0) await new Promise(resolve => setTimeout(resolve, 20))

    const again = new Promise<void>(resolve => {
      a.services.rendezvous.addEventListener('registration:update', (evt) => { if (evt.detail.status === 'registered') resolve() })
    })
    window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))
    await again
    expect(await peersIn()).toEqual([a.peerId.toString()])
  })

  it('keeps an unsigned PeerInfo\'s mark in IndexedDB: a reload with uncertifiedPeers shows it from the cache, marked; one without never shows it', async () => {
    // what a visit with uncertifiedPeers leaves after finding a peer at a py point, written by the cache
    // itself (no py point can serve a browser here: py listens on TCP only)
    const seeded = async (ns: string): Promise<{ key: PrivateKey, py: PeerId }> => {
      const key = await generateKeyPair('Ed25519')
      const py = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      const pyPoint = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
      const expiresAt = Date.now() + hour
      const peerInfo = encodePeerInfo({ id: py, multiaddrs: [multiaddr(`/ip4/192.0.2.1/tcp/4100/p2p/${py}`)] })
      await idbCache()(peerIdFromPrivateKey(key)).saveRegistrations(ns, [{ peerId: py.toString(), signedPeerRecord: peerInfo, certified: false, expiresAt, points: [[pyPoint, expiresAt]] }])
      return { key, py }
    }

    const opted = namespace('uncertified')
    const first = await seeded(opted)
    const node = await browserNode({ namespaces: [opted], uncertifiedPeers: peerInfoSchema() }, { privateKey: first.key })
    const shown = new Promise<DiscoveredPeer>(resolve => {
      node.services.rendezvous.addEventListener('peer:update', (evt) => { if (evt.detail.peer.id.equals(first.py)) resolve(evt.detail.peer) })
    })
    await node.start()
    expect(await shown).toMatchObject({ certified: false, source: 'cache', seq: 0n })

    const strict = namespace('strict')
    const second = await seeded(strict)
    const other = await browserNode({ namespaces: [strict] }, { privateKey: second.key })
    const updates: PeerViewUpdate[] = []
    other.services.rendezvous.addEventListener('peer:update', (evt) => { updates.push(evt.detail) })
    await other.start()
    // a complete walk at the point, which never held the py peer: whatever shows now came from the cache
    expect(await other.services.rendezvous.findPeers(strict, { forceRefresh: true })).toEqual([])
    expect(updates).toEqual([])
  })

  it('when IndexedDB refuses writes (quota exceeded), logs once and works from memory', async () => {
    const ns = namespace('quota')
    const a = await browserNode({ namespaces: [ns] })
    await a.start()
    await registered(a)

    const key = await generateKeyPair('Ed25519')
    // the database exists and reads work; writes fail as they do once the origin's quota is used up
    // (Chromium's CDP quota override, Storage.overrideQuotaForOrigin, did not take effect here)
    await idbCache()(peerIdFromPrivateKey(key)).loadSeq()
    const put = IDBObjectStore.prototype.put
    let refused = 0
    IDBObjectStore.prototype.put = function () {
      refused++
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
    }
    try {
      const lines: string[] = []
      const node = await browserNode({ namespaces: [ns] }, { privateKey: key, logger: capture(lines) })
      const found = peerEvent(node, a.peerId)
      await node.start()
      await found
      await registered(node)
      await node.services.rendezvous.register(namespace('more'))
      expect(await node.services.rendezvous.findPeers(ns)).toHaveLength(1)
      expect(refused).toBe(1)
      expect(lines.filter(l => l.includes('cache failed'))).toHaveLength(1)
      expect(lines.find(l => l.includes('cache failed'))).toContain('quota')
    } finally {
      IDBObjectStore.prototype.put = put
    }
  })

  it('where there is no IndexedDB at all, works from memory', async () => {
    const ns = namespace('missing')
    const a = await browserNode({ namespaces: [ns] })
    await a.start()
    await registered(a)

    // what some embedded webviews and hardened profiles have
    const original = Object.getOwnPropertyDescriptor(globalThis, 'indexedDB')
    Object.defineProperty(globalThis, 'indexedDB', { value: undefined, configurable: true, writable: true })
    try {
      const lines: string[] = []
      // the default cache sees there is none; an IndexedDB cache asked for explicitly fails and falls back
      const defaults = await browserNode({ namespaces: [ns] }, { logger: capture(lines) })
      const explicit = await browserNode({ namespaces: [ns], cache: idbCache() }, { logger: capture(lines) })
      const found = [peerEvent(defaults, a.peerId), peerEvent(explicit, a.peerId)]
      await Promise.all([defaults.start(), explicit.start()])
      await Promise.all(found)
      await Promise.all([registered(defaults), registered(explicit)])
      expect(lines.filter(l => l.includes('cache failed'))).toHaveLength(1)
    } finally {
      if (original != null) Object.defineProperty(globalThis, 'indexedDB', original)
      else delete (globalThis as { indexedDB?: IDBFactory }).indexedDB
    }
    expect(globalThis.indexedDB).toBeInstanceOf(IDBFactory)
  })

  it('when IndexedDB cannot be opened, logs once and works from memory', async () => {
    const ns = namespace('no-idb')
    const a = await browserNode({ namespaces: [ns] })
    await a.start()
    await registered(a)

    const open = IDBFactory.prototype.open
    // what private modes and locked-down profiles do
    IDBFactory.prototype.open = function () { throw new DOMException('IndexedDB is disabled', 'SecurityError') }
    try {
      const lines: string[] = []
      const node = await browserNode({ namespaces: [ns] }, { logger: capture(lines) })
      const found = peerEvent(node, a.peerId)
      await node.start()
      await found
      await registered(node)
      await node.services.rendezvous.register(namespace('more'))
      await node.services.rendezvous.clearCache()
      expect(await node.services.rendezvous.findPeers(ns)).toHaveLength(1)
      expect(lines.filter(l => l.includes('cache failed'))).toHaveLength(1)
      expect(lines.find(l => l.includes('cache failed'))).toContain('IndexedDB is disabled')
    } finally {
      IDBFactory.prototype.open = open
    }
  })

  it('when the database upgrade is blocked by another tab, gives up after the time box and works from memory', async () => {
    const ns = namespace('blocked')
    const a = await browserNode({ namespaces: [ns] })
    await a.start()
    await registered(a)

    const key = await generateKeyPair('Ed25519')
    const dbName = `libp2p-rendezvous/${peerIdFromPrivateKey(key).toString()}`
    // another tab holds the database open and ignores requests to let go...
    const holder = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(dbName, 1)
      request.onsuccess = () => { resolve(request.result) }
      request.onerror = () => { reject(request.error) }
    })
    holder.onversionchange = () => {}
    // ...while a newer version of it waits to upgrade: every later open queues behind that upgrade
    const upgrade = indexedDB.open(dbName, 2)
    const upgraded = new Promise<void>(resolve => { upgrade.onsuccess = () => { upgrade.result.close(); resolve() } })
    try {
      const lines: string[] = []
      const node = await browserNode({ namespaces: [ns], cache: idbCache({ timeout: 300 }) }, { privateKey: key, logger: capture(lines) })
      const found = peerEvent(node, a.peerId)
      await node.start()
      await found
      expect(lines.filter(l => l.includes('cache failed'))).toHaveLength(1)
      expect(lines.find(l => l.includes('cache failed'))).toContain('did not answer')
    } finally {
      holder.close()
      await upgraded
    }
  })
})
