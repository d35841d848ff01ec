/**
 * End-to-end tests: real Chromium, real libp2p over real WebSockets, against
 * the demo exactly as `npm run demo` starts it (in its production-build mode).
 * The demo's own output tells the tests where the point and the page are:
 * the named groups of `wait.stdout` become RENDEZVOUS_POINT and DEMO_URL in
 * the test workers' environment, so no port is fixed in advance.
 */
import { defineConfig } from '@playwright/test'
import { CHROMIUM_ARGS, chromiumPath } from './scripts/chromium.mjs'

export default defineConfig({
  testDir: 'test/e2e',
  testMatch: /.*\.spec\.ts$/,
  // generous: two shared cores run the point, vite, several browsers and the tests; no test asserts on time
  timeout: 120_000,
  expect: { timeout: 30_000 },
  // the tests share one point and start processes of their own; run them one after another
  workers: 1,
  fullyParallel: false,
  forbidOnly: process.env.CI != null,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results/e2e',
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: { executablePath: chromiumPath(), args: CHROMIUM_ARGS },
    trace: 'retain-on-failure',
    actionTimeout: 30_000
  },
  webServer: {
    name: 'demo',
    // E2E_PORT lets two checkouts on one machine run their end-to-end tests at once
    command: `node scripts/demo.mjs --preview --port ${process.env.E2E_PORT ?? 4173} --ns e2e`,
    wait: { stdout: /Rendezvous point: (?<rendezvous_point>\S+)[\s\S]*Demo page: +(?<demo_url>http\S+)/ },
    stdout: 'ignore',
    stderr: 'pipe',
    timeout: 120_000,
    gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 }
  }
})
