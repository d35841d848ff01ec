import { expect, freshNamespace, sharedPoint, startPoint, test } from './fixtures.ts'

test.describe('wrong input shows a clear error and nothing breaks', () => {
  test('a garbage multiaddr, then a good one typed into the form', async ({ openPeer }) => {
    const namespace = freshNamespace('garbage')
    const peer = await openPeer({ namespace, points: ['not a multiaddr'], started: false })
    await expect(peer.page.getByTestId('error-title')).toHaveText('Not a multiaddr')
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
    await expect(peer.page.getByTestId('error-title')).toHaveText('No namespace')
    await expect(peer.demo.error).toContainText('Enter a namespace')
    await expect(peer.page.getByTestId('namespace-input')).toHaveAttribute('aria-invalid', 'true')
  })

  test('a point nobody answers at: the error shows once, and the row says when the next attempt is', async ({ openPeer }) => {
    // a real point's identity at an address where nothing listens (it was stopped)
    const gone = await startPoint()
    await gone.stop()
    const peer = await openPeer({ namespace: freshNamespace('unreachable'), points: [gone.address] })
    const row = peer.demo.registration(gone.peerId)
    await expect(row).toHaveAttribute('data-state', 'error')
    await expect(peer.page.getByTestId('error-title')).toHaveText('Rendezvous point unreachable')
    await expect(peer.demo.error).toContainText(`Cannot reach the rendezvous point at ${gone.address}`)
    await expect(row.getByTestId('next-attempt')).toHaveText(/^(Next attempt in \d+ (min \d+ )?s\.|Trying again now…)$/)

    // from now on, count every change to the banner while the page keeps failing
    await peer.page.evaluate(() => {
      const w = window as unknown as { bannerChanges: number }
      w.bannerChanges = 0
      new MutationObserver(records => { w.bannerChanges += records.length })
        .observe(document.getElementById('error')!, { subtree: true, childList: true, characterData: true, attributes: true })
    })
    const retryAt = async (): Promise<number> => Number(await row.getAttribute('data-retry-at'))
    // two more failed attempts, each with a later next attempt
    for (let attempt = 0; attempt < 2; attempt++) {
      const before = await retryAt()
      await expect.poll(retryAt).toBeGreaterThan(before)
      await expect(row).toHaveAttribute('data-state', 'error')
    }
    expect(await peer.page.evaluate(() => (window as unknown as { bannerChanges: number }).bannerChanges)).toBe(0)
    await expect(peer.demo.error).toBeVisible()

    // dismissed, it stays away while the same error goes on
    await peer.page.getByRole('button', { name: 'Dismiss this error' }).click()
    await expect(peer.demo.error).toBeHidden()
    const dismissedAt = await retryAt()
    await expect.poll(retryAt).toBeGreaterThan(dismissedAt)
    await expect(peer.demo.error).toBeHidden()

    // and the page can move on to a working point
    await peer.page.getByTestId('points-input').fill(sharedPoint())
    await peer.page.getByTestId('join').click()
    await peer.demo.registered()
    await expect(peer.demo.error).toBeHidden()
  })

  test('a typo at Join (a bad multiaddr, an empty namespace) is named, and the running session goes on', async ({ openPeer }) => {
    const point = await startPoint({ logRequests: true })
    const namespace = freshNamespace('typo')
    const alice = await openPeer({ namespace, interval: 1000, points: [point.address] })
    const bob = await openPeer({ namespace, interval: 1000, points: [point.address] })
    await expect(alice.demo.peer(bob.id)).toHaveAttribute('data-source', 'network')
    await alice.demo.registered()
    const url = alice.page.url()
    const points = alice.page.getByTestId('points-input')
    const namespaceInput = alice.page.getByTestId('namespace-input')

    const typos = [
      { input: points, value: '/ip4/127.0.0.1/tcp/notaport/ws', title: 'Not a multiaddr', text: '“/ip4/127.0.0.1/tcp/notaport/ws” is not a multiaddr', fix: 'Fix the address' },
      { input: namespaceInput, value: '', title: 'No namespace', text: 'Enter a namespace', fix: 'Fix the namespace' }
    ]
    for (const typo of typos) {
      const good = await typo.input.inputValue()
      await typo.input.fill(typo.value)
      await alice.page.getByTestId('join').click()
      await expect(alice.page.getByTestId('error-title')).toHaveText(typo.title)
      await expect(alice.demo.error).toContainText(typo.text)
      await expect(alice.page.getByTestId('error-note')).toContainText(`still in the namespace “${namespace}”. ${typo.fix}`)
      await expect(typo.input).toHaveAttribute('aria-invalid', 'true')
      await expect(typo.input).toBeFocused()
      // the same node, still registered, still listing bob; the URL still says what runs
      await expect(alice.demo.selfIdElement).toHaveText(alice.id)
      await expect(alice.demo.registration(point.peerId)).toHaveAttribute('data-state', 'registered')
      await expect(alice.demo.peer(bob.id)).toBeVisible()
      expect(alice.page.url()).toBe(url)
      await typo.input.fill(good)
    }

    // alice still polls, and her registration holds: bob's next walks of the namespace still return her
    const discovers = (peer: string): number => point.requests({ type: 'DISCOVER', namespace, peer }).length
    const [alicePolls, bobPolls] = [discovers(alice.id), discovers(bob.id)]
    await expect.poll(() => discovers(alice.id)).toBeGreaterThan(alicePolls)
    await expect.poll(() => discovers(bob.id)).toBeGreaterThan(bobPolls + 1)
    await expect(bob.demo.peer(alice.id)).toHaveAttribute('data-source', 'network')
    expect(point.requests({ type: 'UNREGISTER', peer: alice.id })).toEqual([])
  })

  test('a namespace the point refuses', async ({ openPeer }) => {
    const strict = await startPoint({ maxNamespaceLength: 8 })
    const namespace = freshNamespace('refused')
    const peer = await openPeer({ namespace, points: [strict.address] })
    await expect(peer.demo.registration(strict.peerId)).toHaveAttribute('data-state', 'error')
    await expect(peer.demo.error).toContainText(`refused the namespace “${namespace}”`)
  })
})
