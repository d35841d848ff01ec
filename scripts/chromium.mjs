// Which Chromium the browser tests drive. Plain JavaScript so that the set-up
// check can run before any dependency is installed.
import { existsSync } from 'node:fs'

const DEBIAN_CHROMIUM = '/usr/bin/chromium'

/**
 * CHROMIUM_PATH when set; else Debian's chromium when present; else undefined,
 * which lets Playwright use a browser of its own (`npx playwright install chromium`).
 */
export function chromiumPath () {
  if (process.env.CHROMIUM_PATH != null && process.env.CHROMIUM_PATH !== '') return process.env.CHROMIUM_PATH
  if (existsSync(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM
  return undefined
}

/** Flags for a headless Chromium on a machine without a display or outside network */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  // WebRTC between two pages on one machine: Chromium hides host ICE candidates behind mDNS names
  // (random .local hosts) that nothing here resolves, so pages could not reach each other directly
  '--disable-features=WebRtcHideLocalIpsWithMdns'
]
