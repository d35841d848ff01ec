import { expect, screenshotPath, test } from './fixtures.ts'

/**
 * The page as the README shows it: one window listing two peers, one of
 * them pinged directly over WebRTC. Written to docs/demo.png when
 * UPDATE_SCREENSHOT is set, attached to the test report otherwise.
 */
test('the page with two peers listed', async ({ openPeer }, testInfo) => {
  const namespace = 'demo'
  const alice = await openPeer({ namespace, context: { viewport: { width: 1000, height: 600 }, deviceScaleFactor: 2, colorScheme: 'light' } })
  const bob = await openPeer({ namespace })
  const carol = await openPeer({ namespace })

  await expect(alice.demo.peerList.locator('[data-peer-id]')).toHaveCount(2)
  for (const peer of [bob, carol]) await expect(alice.demo.peer(peer.id)).toHaveAttribute('data-source', 'network')
  await alice.demo.registered()
  await alice.demo.peer(bob.id).getByTestId('connect').click()
  await expect(alice.demo.peer(bob.id).getByTestId('peer-status')).toHaveText(/ping \d+ ms/)
  await expect(alice.page.getByTestId('live')).toHaveAttribute('data-state', 'live')
  await expect(alice.demo.error).toBeHidden()

  const path = screenshotPath(testInfo, 'demo.png')
  await alice.page.screenshot({ path, fullPage: true, animations: 'disabled' })
  await testInfo.attach('demo', { path, contentType: 'image/png' })
})
