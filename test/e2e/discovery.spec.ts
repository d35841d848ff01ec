import { expect, freshNamespace, sharedPoint, startPoint, test } from './fixtures.ts'
import type { PageOptions, Peer, PointHandle } from './fixtures.ts'

/**
 * Alice and Bob in a fresh namespace at a point of the test's own (to see what reaches it, with
 * `--log-requests`), polling every second, once each lists the other and Bob is registered
 */
async function pairAtOwnPoint (openPeer: (options: PageOptions) => Promise<Peer>, label: string): Promise<{ point: PointHandle, namespace: string, alice: Peer, bob: Peer }> {
  const point = await startPoint({ logRequests: true })
  const namespace = freshNamespace(label)
  const alice = await openPeer({ namespace, interval: 1000, points: [point.address] })
  const bob = await openPeer({ namespace, interval: 1000, points: [point.address] })
  await expect(alice.demo.peer(bob.id)).toBeVisible()
  await bob.demo.registered()
  return { point, namespace, alice, bob }
}

test.describe('two browsers in one namespace', () => {
  test('discover each other through the point, from the network, and one connects to the other directly, signalled through the relay', async ({ openPeer }) => {
    const namespace = freshNamespace('pair')
    const alice = await openPeer({ namespace })
    const bob = await openPeer({ namespace })
    expect(alice.id).not.toBe(bob.id)

    // each lists the other, as confirmed by the point
    await expect(alice.demo.peer(bob.id)).toHaveAttribute('data-source', 'network')
    await expect(bob.demo.peer(alice.id)).toHaveAttribute('data-source', 'network')
    // and not itself
    await expect(alice.demo.peer(alice.id)).toHaveCount(0)
    await expect(alice.demo.peerList.locator('[data-peer-id]')).toHaveCount(1)

    // both registered a relay address at the point, and the list shows it
    const pointId = sharedPoint().split('/p2p/')[1]
    await expect(alice.demo.registration(pointId)).toHaveAttribute('data-state', 'registered')
    await expect(alice.demo.peer(bob.id).getByTestId('peer-addrs')).toContainText(`/p2p/${pointId}/p2p-circuit`)
    await expect(alice.page.getByTestId('self-addrs')).toContainText('/p2p-circuit')

    // alice dials bob over WebRTC, signalled through the relay (the /webrtc address he registered), and pings him
    await alice.demo.peer(bob.id).getByTestId('connect').click()
    await expect(alice.demo.peer(bob.id).getByTestId('peer-status')).toHaveText(/connected directly · ping \d+ ms/)
    await expect(alice.demo.peer(bob.id)).toHaveAttribute('data-connected', 'direct')
    // bob sees the connection that came in
    await expect(bob.demo.peer(alice.id)).toHaveAttribute('data-connected', 'direct')
    await expect(alice.demo.error).toBeHidden()
    await expect(bob.demo.error).toBeHidden()
  })

  test('several points (`point` repeated in the URL): the page registers at each, and finds peers that use only one of them', async ({ openPeer }) => {
    const second = await startPoint()
    const namespace = freshNamespace('points')
    const both = await openPeer({ namespace, points: [sharedPoint(), second.address] })
    const onlySecond = await openPeer({ namespace, points: [second.address] })

    await expect(both.demo.registrations).toHaveCount(2)
    await both.demo.registered()
    await expect(both.demo.registration(second.peerId)).toHaveAttribute('data-state', 'registered')
    await expect(both.demo.peer(onlySecond.id)).toHaveAttribute('data-source', 'network')
    await expect(onlySecond.demo.peer(both.id)).toHaveAttribute('data-source', 'network')
  })

  test('leaving unregisters at the point: the other page drops the peer at its next discovery', async ({ openPeer }) => {
    const { point, namespace, alice, bob } = await pairAtOwnPoint(openPeer, 'leave')

    await bob.page.getByTestId('leave').click()

    await expect.poll(() => point.requests({ type: 'UNREGISTER', namespace, peer: bob.id }).length).toBeGreaterThan(0)
    // bob's registration had two minutes left: only the UNREGISTER can make him vanish this soon
    await expect(alice.demo.peer(bob.id)).toHaveCount(0)
    await expect(alice.page.locator('#no-peers')).toBeVisible()
    await expect(bob.demo.selfIdElement).toHaveText('not started')
  })

  test('closing a tab (Chromium tears it down for real): the other tab drops it from its list', async ({ openPeer }) => {
    const { alice, bob } = await pairAtOwnPoint(openPeer, 'close')

    // as a user closing the window: whatever the page manages to send on its way out, or nothing
    await bob.context.close()

    // bob's registration had two minutes left: the point drops it when his connection closes
    await expect(alice.demo.peer(bob.id)).toHaveCount(0)
    await expect(alice.page.locator('#no-peers')).toBeVisible()
  })

  test('a tab that crashes, so that no UNREGISTER can leave it: the point drops it as its connection closes, and the other tab loses it', async ({ openPeer }) => {
    const { point, alice, bob } = await pairAtOwnPoint(openPeer, 'crash')

    // the renderer dies at once: no unload handler runs, and its sockets close with it
    const crashed = new Promise(resolve => bob.page.once('crash', resolve))
    const devtools = await bob.context.newCDPSession(bob.page)
    void devtools.send('Page.crash').catch(() => {})
    await crashed

    await expect(alice.demo.peer(bob.id)).toHaveCount(0)
    expect(point.requests({ type: 'UNREGISTER', peer: bob.id })).toEqual([])
  })
})
