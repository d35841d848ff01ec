/**
 * The cache's first look in real Chromium: the copy of a few registrations
 * that IndexedDB's cache keeps in real `localStorage`, so that a reload can
 * show a peer while libp2p is still starting. Each reload here meets a
 * point that cannot be reached, so whatever it shows came from the cache.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { systemClock } from '../../src/index.ts'
import { browserNode, cachedIn, capture, firstVisit, hour, namespace } from './nodes.ts'
import type { Node } from './nodes.ts'
import type { RendezvousDiscoveryInit } from '../../src/index.ts'
import type { PeerId, PrivateKey } from '@libp2p/interface'

/** Where the node with `peerId` keeps its first look at `ns` (the cache's own naming: database name, then namespace) */
function firstLookKey (peerId: PeerId, ns: string): string {
  return `libp2p-rendezvous/${peerId.toString()}/${ns}`
}

/** The next page load of `key`, with no point it can reach */
async function offlineReload (ns: string, key: PrivateKey, init: Partial<RendezvousDiscoveryInit> = {}, lines?: string[]): Promise<Node> {
  const unreachable = `/ip4/127.0.0.1/tcp/9/ws/p2p/${peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()}`
  return browserNode({ namespaces: [ns], points: [unreachable], unregisterTimeout: 100, ...init }, { privateKey: key, logger: lines == null ? undefined : capture(lines) })
}

/**
 * The peers `node` emits before its start() resolves and before a task queued
 * as it begins can run: IndexedDB and WebCrypto answer as tasks, so only the
 * first look can be this early
 */
async function peersWithinStart (node: Node): Promise<string[]> {
  const emitted: string[] = []
  let early = true
  const listener = (evt: CustomEvent<{ id: PeerId }>): void => { if (early) emitted.push(evt.detail.id.toString()) }
  node.services.rendezvous.addEventListener('peer', listener)
  setTimeout(() => { early = false }, 0)
  await node.start()
  early = false
  node.services.rendezvous.removeEventListener('peer', listener)
  return emitted
}

describe('the first look, in Chromium', () => {
  it('is written beside IndexedDB, and shows the cached peer within start()', async () => {
    const ns = namespace('look')
    const { a, key, self } = await firstVisit(ns)
    const copy = JSON.parse(localStorage.getItem(firstLookKey(self, ns)) ?? '[]')
    expect(copy.map((entry: { peerId: string }) => entry.peerId)).toEqual([a.peerId.toString()])

    const reload = await offlineReload(ns, key)
    expect(await peersWithinStart(reload)).toEqual([a.peerId.toString()])
  })

  it('is cleared by clearCache(), for one namespace or for all', async () => {
    const ns = namespace('clear-one')
    const { key, self } = await firstVisit(ns)
    expect(localStorage.getItem(firstLookKey(self, ns))).not.toBeNull()

    const visit = await offlineReload(ns, key)
    await visit.start()
    await visit.services.rendezvous.clearCache(ns)
    expect(localStorage.getItem(firstLookKey(self, ns))).toBeNull()
    await visit.stop()

    const reload = await offlineReload(ns, key)
    expect(await peersWithinStart(reload)).toEqual([])
    expect(await cachedIn(self, ns)).toBeUndefined()

    // and every namespace at once
    const other = namespace('clear-all')
    const second = await firstVisit(other)
    const again = await offlineReload(other, second.key)
    await again.start()
    await again.services.rendezvous.clearCache()
    expect(localStorage.getItem(firstLookKey(second.self, other))).toBeNull()
  })

  it('survives a localStorage that throws: says why, and the full read still shows every cached peer and keeps them', async () => {
    const ns = namespace('throws')
    const { a, key, self } = await firstVisit(ns)

    // what a page whose storage is blocked meets on every call
    const { getItem, setItem, removeItem } = Storage.prototype
    const refuse = (): never => { throw new DOMException('The operation is insecure.', 'SecurityError') }
    Storage.prototype.getItem = refuse
    Storage.prototype.setItem = refuse
    Storage.prototype.removeItem = refuse
    try {
      const lines: string[] = []
      const reload = await offlineReload(ns, key, {}, lines)
      const found = new Promise<string>(resolve => {
        reload.services.rendezvous.addEventListener('peer', (evt) => { resolve(evt.detail.id.toString()) })
      })
      expect(await peersWithinStart(reload)).toEqual([])
      expect(await found).toBe(a.peerId.toString())
      expect(lines.filter(line => line.includes('first look'))).toHaveLength(1)
      expect(lines.find(line => line.includes('first look'))).toContain('insecure')
      await reload.stop()
    } finally {
      Object.assign(Storage.prototype, { getItem, setItem, removeItem })
    }
    // nothing was lost: IndexedDB still holds the peer, and the copy is as it was
    expect((await cachedIn(self, ns))?.map(entry => entry.peerId)).toEqual([a.peerId.toString()])
    const reload = await offlineReload(ns, key)
    expect(await peersWithinStart(reload)).toEqual([a.peerId.toString()])
  })

  it('expires with the registration: a lapsed copy shows nothing and is removed', async () => {
    const ns = namespace('expires')
    const { key, self } = await firstVisit(ns)
    expect(localStorage.getItem(firstLookKey(self, ns))).not.toBeNull()

    // three hours later: the point granted two (the default TTL)
    const later = { ...systemClock, now: () => Date.now() + 3 * hour }
    const reload = await offlineReload(ns, key, { clock: later })
    const emitted: string[] = []
    reload.services.rendezvous.addEventListener('peer', (evt) => { emitted.push(evt.detail.id.toString()) })
    expect(await peersWithinStart(reload)).toEqual([])
    await reload.stop()
    expect(emitted).toEqual([])
    expect(localStorage.getItem(firstLookKey(self, ns))).toBeNull()
  })

  it('never emits a record whose signature does not verify', async () => {
    const ns = namespace('forged')
    const { a, key, self } = await firstVisit(ns)

    // one bit of the copy's record changed, as storage corruption or another script on the origin might
    const copy = JSON.parse(localStorage.getItem(firstLookKey(self, ns)) ?? '[]')
    const record = Uint8Array.from(atob(copy[0].signedPeerRecord), c => c.charCodeAt(0))
    record[record.length - 1] ^= 0x01
    copy[0].signedPeerRecord = btoa(String.fromCharCode(...record))
    localStorage.setItem(firstLookKey(self, ns), JSON.stringify(copy))

    const reload = await offlineReload(ns, key)
    const found = new Promise<string>(resolve => {
      reload.services.rendezvous.addEventListener('peer', (evt) => { resolve(evt.detail.id.toString()) })
    })
    // not from the forged copy; then from IndexedDB, whose record verifies
    expect(await peersWithinStart(reload)).toEqual([])
    expect(await found).toBe(a.peerId.toString())
  })
})
