import { DemoPage, demoUrl, expect, freshNamespace, startPoint, test } from './fixtures.ts'
import type { Page } from '@playwright/test'

/**
 * Resolves after the page's own timers fired `ticks` times, one second
 * apart at the least. In a hidden tab Chromium throttles timers (to about
 * one wake-up a second, or fewer), so this spans at least as many
 * chances for the page's discovery timer (1 s here) to have fired.
 */
async function pageTimerTicks (page: Page, ticks: number): Promise<void> {
  await page.evaluate(async (count) => new Promise<void>(resolve => {
    let n = 0
    const timer = setInterval(() => {
      if (++n < count) return
      clearInterval(timer)
      resolve()
    }, 1000)
  }), ticks)
}

test('a hidden tab stops polling the point, and catches up as soon as it is visible again', async ({ realBrowser, openPeer }) => {
  // our own point, to count the DISCOVERs it serves in the namespace
  const point = await startPoint({ logRequests: true })
  const namespace = freshNamespace('hidden')
  const discovers = (): number => point.requests({ type: 'DISCOVER', namespace }).length

  // a tab in a browser without Playwright's focus emulation, so that it really can be hidden
  const tab = await realBrowser.context.newPage()
  const cover = await realBrowser.context.newPage()
  try {
    await tab.bringToFront()
    const hiddenPeer = new DemoPage(tab)
    await tab.goto(demoUrl({ namespace, interval: 1000, points: [point.address] }))
    const tabId = await hiddenPeer.selfId()
    await hiddenPeer.registered()
    expect(await tab.evaluate(() => document.visibilityState)).toBe('visible')
    // while visible it polls: at least two DISCOVERs in our namespace
    await expect.poll(discovers).toBeGreaterThanOrEqual(2)

    // another tab in front: ours is hidden for real
    await cover.bringToFront()
    await expect.poll(async () => tab.evaluate(() => document.visibilityState)).toBe('hidden')

    // a newcomer that polls once only (an hour between polls), so every later DISCOVER is the hidden tab's
    const newcomer = await openPeer({ namespace, interval: 3_600_000, points: [point.address] })
    await expect(newcomer.demo.peer(tabId)).toBeVisible()
    await newcomer.demo.registered()
    await expect.poll(() => point.requests({ type: 'REGISTER', peer: newcomer.id }).length).toBeGreaterThan(0)

    const before = discovers()
    // five of the hidden tab's own timer ticks: its 1 s discovery timer would have fired by now
    await pageTimerTicks(tab, 5)
    expect(discovers()).toBe(before)
    await expect(hiddenPeer.peer(newcomer.id)).toHaveCount(0)

    // visible again: it polls at once and lists the newcomer
    await tab.bringToFront()
    await expect.poll(async () => tab.evaluate(() => document.visibilityState)).toBe('visible')
    await expect(hiddenPeer.peer(newcomer.id)).toHaveAttribute('data-source', 'network')
    expect(discovers()).toBeGreaterThan(before)
  } finally {
    await cover.close()
    await tab.close()
  }
})

test('the live indicator: when the point last answered, and paused while the tab is hidden', async ({ realBrowser }) => {
  const point = await startPoint()
  const tab = await realBrowser.context.newPage()
  const cover = await realBrowser.context.newPage()
  // read through evaluate: a hidden tab runs no animation frames for Playwright's waiting
  const live = async (): Promise<{ state?: string, lastSuccess: number, text: string }> => tab.evaluate(() => {
    const el = document.querySelector<HTMLElement>('[data-testid="live"]')!
    return { state: el.dataset.state, lastSuccess: Number(el.dataset.lastSuccess), text: el.textContent ?? '' }
  })
  try {
    await tab.bringToFront()
    const peer = new DemoPage(tab)
    await tab.goto(demoUrl({ namespace: freshNamespace('live'), interval: 1000, points: [point.address] }))
    await peer.selfId()
    await peer.registered()
    await expect(peer.page.getByTestId('live')).toHaveAttribute('data-state', 'live')
    await expect(peer.page.getByTestId('live')).toHaveText(/^Live · last poll \d+ s ago$/)
    // every poll's answer moves it on
    const first = (await live()).lastSuccess
    await expect.poll(async () => (await live()).lastSuccess).toBeGreaterThan(first)

    await cover.bringToFront()
    await expect.poll(async () => (await live()).state).toBe('paused')
    expect((await live()).text).toMatch(/^Paused while this tab is hidden · last poll \d+ s ago$/)
    // nothing answers a tab that does not ask: the last poll stays where it was
    await pageTimerTicks(tab, 1)
    const paused = (await live()).lastSuccess
    await pageTimerTicks(tab, 3)
    expect((await live()).lastSuccess).toBe(paused)
    expect((await live()).state).toBe('paused')

    // visible again: live, with a new answer
    await tab.bringToFront()
    await expect.poll(async () => (await live()).state).toBe('live')
    await expect.poll(async () => (await live()).lastSuccess).toBeGreaterThan(paused)
  } finally {
    await cover.close()
    await tab.close()
  }
})
