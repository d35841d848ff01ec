/**
 * Time from the SDK's `peer` event to an open connection to that peer, in
 * headless Chromium, two pages (each its own browser context) and a local
 * point: through the point's relay (the baseline), and directly over WebRTC,
 * signalled through that relay (the /webrtc address the SDK registers), as
 * the demo's "Connect" does. The two kinds take turns within each round, each
 * with a fresh pair of pages, so load from whatever else runs on the machine
 * falls on both alike.
 */
import { chromium } from 'playwright'
import { CHROMIUM_ARGS, chromiumPath } from '../../scripts/chromium.mjs'
import { createRendezvousPoint } from '../../src/server/index.ts'
import { retryOnce, round, summarize, withTimeout } from '../lib/stats.ts'
import { servePage } from './first-peer.ts'
import type { ConnectBenchApi, ConnectKind, ConnectResult, PairInit } from './connect/protocol.ts'
import type { Summary } from '../lib/stats.ts'
import type { Browser } from 'playwright'

export interface ConnectTimeResult {
  runs: number
  browser: string
  /** Milliseconds from `peer` to the open connection */
  relayed: Summary
  direct: Summary
  /** Ratio of medians */
  directVsRelayed: number
  /** The same ratio round by round, summarized */
  pairedDirectVsRelayed: Summary
  /** Every direct run's connection was direct, and every relayed run's was not */
  kindsAsExpected: boolean
}

declare const connectBench: ConnectBenchApi

/** Milliseconds one run may take, two page loads included; a run is a couple of seconds */
const RUN_TIMEOUT = 30_000

async function runOnce (browser: Browser, url: string, init: PairInit, kind: ConnectKind): Promise<ConnectResult> {
  const contexts = [await browser.newContext(), await browser.newContext()]
  const steps = async (): Promise<ConnectResult> => {
    const [listener, dialer] = await Promise.all(contexts.map(async context => {
      const page = await context.newPage()
      await page.goto(url)
      await page.waitForFunction(() => typeof connectBench === 'object')
      return page
    }))
    const target = await listener.evaluate(async (i) => connectBench.listen(i), init)
    return dialer.evaluate(async (i) => connectBench.connect(i), { ...init, target, kind })
  }
  try {
    // closing the contexts (below) ends whatever a timed-out run still waits for
    return await withTimeout(steps(), RUN_TIMEOUT, `a ${kind} connection`)
  } finally {
    await Promise.all(contexts.map(async context => context.close()))
  }
}

export async function timeToConnection (runs = 8): Promise<ConnectTimeResult> {
  const point = await createRendezvousPoint({ listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
  const page = await servePage(`${import.meta.dirname}/connect`)
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS })
  const results: Record<ConnectKind, ConnectResult[]> = { relayed: [], direct: [] }
  try {
    const kinds: ConnectKind[] = ['relayed', 'direct']
    // round 0 warms up the point, the browser and the JITs; it is not counted
    for (let r = 0; r <= runs; r++) {
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(r + k) % kinds.length]
        // a namespace per run: the dialer finds exactly the listener of its run
        const result = await retryOnce(async () => runOnce(browser, page.url, { point: point.getMultiaddrs()[0].toString(), namespace: `connect-${r}-${kind}` }, kind))
        if (r > 0) results[kind].push(result)
      }
    }
    const relayed = summarize(results.relayed.map(r => r.ms))
    const direct = summarize(results.direct.map(r => r.ms))
    return {
      runs,
      browser: browser.version(),
      relayed,
      direct,
      directVsRelayed: round(direct.median / relayed.median),
      pairedDirectVsRelayed: summarize(results.direct.map((r, i) => r.ms / results.relayed[i].ms)),
      kindsAsExpected: results.direct.every(r => r.direct) && results.relayed.every(r => !r.direct)
    }
  } finally {
    await browser.close()
    await page.close()
    await point.stop()
  }
}
