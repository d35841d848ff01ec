import { expect, freshNamespace, screenshotPath, test } from './fixtures.ts'
import type { Page } from '@playwright/test'

/** What sticks out sideways: the page's scroll width, and every visible element past either edge */
async function overflow (page: Page): Promise<{ scrollWidth: number, width: number, outside: string[] }> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth
    const outside = Array.from(document.querySelectorAll('body *'))
      .filter(el => {
        const box = el.getBoundingClientRect()
        return box.width > 0 && (box.right > width + 0.5 || box.left < -0.5)
      })
      .map(el => el.outerHTML.slice(0, 160))
    return { scrollWidth: document.documentElement.scrollWidth, width, outside }
  })
}

/**
 * On a phone (375 × 667 CSS pixels, a touch screen that honours the
 * viewport meta tag), the page with peers and an error fits the
 * width: nothing scrolls or sticks out sideways. Writes docs/demo-phone.png
 * when UPDATE_SCREENSHOT is set.
 */
test('on a phone-sized screen nothing overflows sideways', async ({ openPeer }, testInfo) => {
  const namespace = freshNamespace('phone')
  const phone = { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, colorScheme: 'light' as const }
  const alice = await openPeer({ namespace, context: phone })
  const bob = await openPeer({ namespace })
  await expect(alice.demo.peer(bob.id)).toHaveAttribute('data-source', 'network')
  await alice.demo.registered()
  await expect(alice.page.getByTestId('live')).toHaveAttribute('data-state', 'live')
  expect(await alice.page.evaluate(() => window.innerWidth)).toBe(375)

  expect(await overflow(alice.page)).toEqual({ scrollWidth: 375, width: 375, outside: [] })
  const path = screenshotPath(testInfo, 'demo-phone.png')
  await alice.page.screenshot({ path, fullPage: true, animations: 'disabled' })
  await testInfo.attach('phone', { path, contentType: 'image/png' })

  // the error banner, with a long address in it, fits too
  await alice.page.getByTestId('points-input').fill('/dns4/rendezvous.example.com/tcp/443/wss/p2p/not-a-peer-id-but-long-enough-to-overflow')
  await alice.page.getByTestId('join').click()
  await expect(alice.demo.error).toBeVisible()
  expect(await overflow(alice.page)).toEqual({ scrollWidth: 375, width: 375, outside: [] })
})
