import { expect, freshNamespace, test } from './fixtures.ts'

/**
 * Records, for every peer row, the `data-source` it had when it first
 * appeared, from the first moment the document exists: an observer
 * installed before any page script runs, independent of the page's code.
 */
function recordFirstSources (): void {
  const first: Record<string, string> = {}
  ;(window as any).__firstSource = first
  const scan = (): void => {
    for (const row of Array.from(document.querySelectorAll<HTMLElement>('[data-testid="peer-list"] [data-peer-id]'))) {
      const id = row.dataset.peerId ?? ''
      if (first[id] == null && row.dataset.source != null) first[id] = row.dataset.source
    }
  }
  new MutationObserver(scan).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-source'] })
}

test('after a reload, cached peers are listed (marked as cache) before the point answers, then confirmed by the network', async ({ openPeer }) => {
  const namespace = freshNamespace('cache')
  const alice = await openPeer({ namespace })
  const bob = await openPeer({ namespace })
  await expect(alice.demo.peer(bob.id)).toHaveAttribute('data-source', 'network')

  await alice.page.addInitScript(recordFirstSources)
  await alice.page.reload()

  // the same tab keeps its peer id across the reload, and so its cache
  expect(await alice.demo.selfId()).toBe(alice.id)
  await expect(alice.demo.peer(bob.id)).toBeVisible()
  const firstSource = await alice.page.evaluate((id) => (window as any).__firstSource[id], bob.id)
  expect(firstSource).toBe('cache')
  // then the point confirms it
  await expect(alice.demo.peer(bob.id)).toHaveAttribute('data-source', 'network')
})

test('a fresh browser context has nothing cached: it first sees peers from the network', async ({ openPeer }) => {
  const namespace = freshNamespace('cold')
  const alice = await openPeer({ namespace })
  await alice.demo.registered()

  const bob = await openPeer({ namespace, init: recordFirstSources })
  await expect(bob.demo.peer(alice.id)).toHaveAttribute('data-source', 'network')
  expect(await bob.page.evaluate((id) => (window as any).__firstSource[id], alice.id)).toBe('network')
})
