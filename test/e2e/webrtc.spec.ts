/**
 * WebRTC in real Chromium: a page that reaches its point only over
 * WebRTC-direct (no WebSocket, no TLS certificate), and two pages that meet
 * directly over WebRTC, signalled through the point's relay, on "Connect".
 * Direct is proven by what the relay would not let through: more bytes than
 * its data limit, and a life longer than its duration limit.
 *
 * Chromium is launched with WebRtcHideLocalIpsWithMdns off (see
 * scripts/chromium.mjs): otherwise its host candidates are mDNS names nothing
 * here resolves, and two pages on one machine never connect directly.
 */
import { expect, freshNamespace, startPoint, test } from './fixtures.ts'
import type { PageOptions, Peer, PointHandle } from './fixtures.ts'
import type { Page } from '@playwright/test'

/** More than the relay's data limit (128 KiB by default) */
const ECHOED = 1024 * 1024

/**
 * Echo `bytes` random bytes off `peer` over the open direct connection, on
 * its ping protocol (whose handler sends back whatever it reads); resolves
 * with whether every byte came back in order
 */
async function echoDirect (page: Page, peer: string, bytes: number): Promise<boolean> {
  return page.evaluate(async ({ peer, bytes }) => {
    const node = window.libp2p!
    const connection = node.getConnections().find(c => c.remotePeer.toString() === peer && c.direct && c.status === 'open')
    if (connection == null) throw new Error('no direct connection')
    const stream = await connection.newStream('/ipfs/ping/1.0.0')
    const sent = new Uint8Array(bytes)
    for (let at = 0; at < bytes; at += 65536) crypto.getRandomValues(sent.subarray(at, at + 65536))
    const received = new Uint8Array(bytes)
    let length = 0
    const echoed = new Promise<void>((resolve, reject) => {
      stream.addEventListener('message', (evt) => {
        const chunk = evt.data.subarray()
        if (length + chunk.byteLength > bytes) { reject(new Error('more came back than was sent')); return }
        received.set(chunk, length)
        length += chunk.byteLength
        if (length === bytes) resolve()
      })
      stream.addEventListener('close', () => { reject(new Error(`the stream closed after ${length} of ${bytes} bytes`)) })
    })
    for (let at = 0; at < bytes; at += 16384) {
      if (!stream.send(sent.subarray(at, at + 16384))) {
        await new Promise(resolve => { stream.addEventListener('drain', resolve, { once: true }) })
      }
    }
    await echoed
    await stream.close()
    return received.every((byte, i) => byte === sent[i])
  }, { peer, bytes })
}

/** Our connections to `peer`, as the page's node has them: is each one direct, relay-limited, open? */
async function connectionsTo (page: Page, peer: string): Promise<Array<{ direct: boolean, limited: boolean, status: string }>> {
  return page.evaluate(peer => window.libp2p!.getConnections()
    .filter(c => c.remotePeer.toString() === peer)
    .map(c => ({ direct: c.direct, limited: c.limits != null, status: c.status })), peer)
}

/** Alice and Bob at `point` over WebRTC-direct only, each listing the other */
async function pair (openPeer: (options: PageOptions) => Promise<Peer>, point: PointHandle, label: string): Promise<{ alice: Peer, bob: Peer }> {
  const namespace = freshNamespace(label)
  const alice = await openPeer({ namespace, interval: 1000, points: [point.webrtcDirect] })
  const bob = await openPeer({ namespace, interval: 1000, points: [point.webrtcDirect] })
  await expect(alice.demo.peer(bob.id)).toHaveAttribute('data-source', 'network')
  await expect(bob.demo.peer(alice.id)).toHaveAttribute('data-source', 'network')
  return { alice, bob }
}

/** Alice clicks "Connect" on Bob: both rows say direct */
async function connectDirectly (alice: Peer, bob: Peer): Promise<void> {
  await alice.demo.peer(bob.id).getByTestId('connect').click()
  await expect(alice.demo.peer(bob.id).getByTestId('peer-status')).toHaveText(/connected directly · ping \d+ ms/)
  await expect(alice.demo.peer(bob.id)).toHaveAttribute('data-connected', 'direct')
  await expect(bob.demo.peer(alice.id)).toHaveAttribute('data-connected', 'direct')
}

test.describe('WebRTC', () => {
  test('a page given only the point\'s WebRTC-direct address reaches it, registers through its relay, and lists peers', async ({ openPeer }) => {
    const point = await startPoint()
    expect(point.webrtcDirect).toMatch(/\/udp\/\d+\/webrtc-direct\/certhash\/u[\w-]+\/p2p\//)
    const { alice, bob } = await pair(openPeer, point, 'webrtc-direct')

    await alice.demo.registered()
    await bob.demo.registered()
    // its relay address is built on the point's WebRTC-direct address, and the SDK registered a /webrtc one behind it
    await expect(alice.page.getByTestId('self-addrs')).toContainText('/webrtc-direct/')
    await expect(bob.demo.peer(alice.id).getByTestId('peer-addrs')).toContainText(`/p2p/${point.peerId}/p2p-circuit/webrtc`)
    await expect(alice.demo.error).toBeHidden()
  })

  test('"Connect" meets the peer directly: 1 MiB, more than the relay lets through, echoes; no relayed connection is left', async ({ openPeer }) => {
    const point = await startPoint()
    const { alice, bob } = await pair(openPeer, point, 'webrtc-connect')

    await connectDirectly(alice, bob)

    expect(await echoDirect(alice.page, bob.id, ECHOED)).toBe(true)
    await expect.poll(async () => connectionsTo(alice.page, bob.id)).toEqual([{ direct: true, limited: false, status: 'open' }])
    await expect.poll(async () => connectionsTo(bob.page, alice.id)).toEqual([{ direct: true, limited: false, status: 'open' }])
  })

  test('a direct connection outlives the relay\'s duration limit (--relay-duration-limit 3), which ends a relayed one', async ({ openPeer }) => {
    const point = await startPoint({ relayDurationLimit: 3 })
    const { alice, bob } = await pair(openPeer, point, 'webrtc-duration')
    await connectDirectly(alice, bob)

    // a relayed connection opened beside it, on purpose, is what tells us the limit has passed: the relay ends it
    await alice.page.evaluate(async (bob) => {
      const node = window.libp2p!
      const toPoint = node.getConnections().find(c => c.remoteAddr.toString().includes('/webrtc-direct/'))
      if (toPoint == null) throw new Error('no connection to the point')
      const relayed = await node.dial(toPoint.remoteAddr.encapsulate(`/p2p-circuit/p2p/${bob}`), { force: true })
      if (relayed.limits == null) throw new Error('the connection through the relay is not limited')
    }, bob.id)
    await expect.poll(async () => (await connectionsTo(alice.page, bob.id)).filter(c => c.limited).length).toBe(1)
    await expect.poll(async () => (await connectionsTo(alice.page, bob.id)).filter(c => c.limited).length, { timeout: 60_000 }).toBe(0)

    expect(await connectionsTo(alice.page, bob.id)).toEqual([{ direct: true, limited: false, status: 'open' }])
    expect(await echoDirect(alice.page, bob.id, ECHOED)).toBe(true)
    await expect(alice.demo.peer(bob.id)).toHaveAttribute('data-connected', 'direct')
  })
})
