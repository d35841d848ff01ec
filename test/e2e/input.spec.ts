import { expect, freshNamespace, sharedPoint, startPoint, test } from './fixtures.ts'

test.describe('wrong input shows a clear error and nothing breaks', () => {
  test('a garbage multiaddr, then a good one typed into the form', async ({ openPeer }) => {
    const namespace = freshNamespace('garbage')
    const peer = await openPeer({ namespace, points: ['not a multiaddr'], started: false })
    await expect(peer.demo.error).toBeVisible()
    await expect(peer.demo.error).toContainText('“not a multiaddr” is not a multiaddr')
    await expect(peer.demo.selfIdElement).toHaveText('not started')

    // the form still works: fix the address and join
    await peer.page.getByTestId('points-input').fill(sharedPoint())
    await peer.page.getByTestId('join').click()
    await peer.demo.selfId()
    await peer.demo.registered()
    await expect(peer.demo.error).toBeHidden()
    // and the URL now says what the page does, for a reload or to share
    expect(new URL(peer.page.url()).searchParams.getAll('point')).toEqual([sharedPoint()])
  })

  test('an address without /p2p/<peer id>', async ({ openPeer }) => {
    const withoutId = sharedPoint().split('/p2p/')[0]
    const peer = await openPeer({ namespace: freshNamespace('noid'), points: [withoutId], started: false })
    await expect(peer.demo.error).toContainText('does not end in /p2p/<peer id>')
  })

  test('an empty namespace', async ({ openPeer }) => {
    const peer = await openPeer({ namespace: '', started: false })
    await expect(peer.demo.error).toContainText('Enter a namespace')
  })

  test('a point nobody answers at', async ({ openPeer }) => {
    // a real point's identity at an address where nothing listens (it was stopped)
    const gone = await startPoint()
    await gone.stop()
    const peer = await openPeer({ namespace: freshNamespace('unreachable'), points: [gone.address] })
    await expect(peer.demo.registration(gone.peerId)).toHaveAttribute('data-state', 'error')
    await expect(peer.demo.error).toContainText(`Cannot reach the rendezvous point at ${gone.address}`)

    // and the page can move on to a working point
    await peer.page.getByTestId('points-input').fill(sharedPoint())
    await peer.page.getByTestId('join').click()
    await peer.demo.registered()
    await expect(peer.demo.error).toBeHidden()
  })

  test('a namespace the point refuses', async ({ openPeer }) => {
    const strict = await startPoint({ maxNamespaceLength: 8 })
    const namespace = freshNamespace('refused')
    const peer = await openPeer({ namespace, points: [strict.address] })
    await expect(peer.demo.registration(strict.peerId)).toHaveAttribute('data-state', 'error')
    await expect(peer.demo.error).toContainText(`refused the namespace “${namespace}”`)
  })
})
