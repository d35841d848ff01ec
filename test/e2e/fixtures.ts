/**
 * Shared pieces of the end-to-end tests: the demo page driven through its
 * `data-testid` hooks, one browser context per peer, and processes (extra
 * points, the CLI) that are always stopped when a test ends.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { test as base, chromium, expect } from '@playwright/test'
import { CHROMIUM_ARGS, chromiumPath } from '../../scripts/chromium.mjs'
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page, TestInfo } from '@playwright/test'
import type { ChildProcess } from 'node:child_process'

export { expect }

const root = resolve(import.meta.dirname, '../..')

/** The shared point started by the demo launcher (see playwright.config.ts) */
export function sharedPoint (): string {
  const point = process.env.RENDEZVOUS_POINT
  if (point == null || point === '') throw new Error('RENDEZVOUS_POINT is not set: run these tests with `npx playwright test`')
  return point
}

export interface PageOptions {
  /** Rendezvous points; the shared one when absent */
  points?: string[]
  namespace: string
  /** Requested TTL in seconds */
  ttl?: number
  /** Milliseconds between discovery rounds */
  interval?: number
}

/** The demo page's URL for these settings */
export function demoUrl (options: PageOptions): string {
  const base = process.env.DEMO_URL
  if (base == null || base === '') throw new Error('DEMO_URL is not set: run these tests with `npx playwright test`')
  const url = new URL(base)
  url.search = ''
  for (const point of options.points ?? [sharedPoint()]) url.searchParams.append('point', point)
  url.searchParams.set('ns', options.namespace)
  if (options.ttl != null) url.searchParams.set('ttl', String(options.ttl))
  if (options.interval != null) url.searchParams.set('interval', String(options.interval))
  return url.toString()
}

/** A namespace no other test (or earlier run against the same point) uses */
export function freshNamespace (label: string): string {
  return `e2e-${label}-${randomBytes(4).toString('hex')}`
}

/** The demo page, through the hooks the issue promises */
export class DemoPage {
  readonly page: Page
  readonly logs: string[] = []

  constructor (page: Page) {
    this.page = page
    page.on('console', msg => { this.logs.push(`[${msg.type()}] ${msg.text()}`) })
    page.on('pageerror', err => { this.logs.push(`[pageerror] ${err.message}`) })
  }

  get selfIdElement (): Locator { return this.page.getByTestId('self-id') }
  get peerList (): Locator { return this.page.getByTestId('peer-list') }
  get error (): Locator { return this.page.getByTestId('error') }
  get registrations (): Locator { return this.page.getByTestId('registration') }

  /** The row for `peerId` in the peer list */
  peer (peerId: string): Locator {
    return this.peerList.locator(`[data-peer-id="${peerId}"]`)
  }

  registration (point: string): Locator {
    return this.page.locator(`[data-testid="registration"][data-point="${point}"]`)
  }

  /** Our own peer id, once the node has started */
  async selfId (): Promise<string> {
    await expect(this.selfIdElement).toHaveText(/^(12D3KooW|Qm)\w+$/)
    return (await this.selfIdElement.textContent()) ?? ''
  }

  /** Wait until every point on the page reports the registration as done */
  async registered (): Promise<void> {
    await expect(this.registrations.first()).toBeVisible()
    for (const row of await this.registrations.all()) {
      await expect(row).toHaveAttribute('data-state', 'registered')
    }
  }

  async goto (options: PageOptions): Promise<void> {
    await this.page.goto(demoUrl(options))
  }
}

export interface Peer {
  context: BrowserContext
  demo: DemoPage
  page: Page
  id: string
}

export interface ProcessHandle {
  /** Lines the process printed on stdout, in order */
  lines: string[]
  /** Resolves with the first stdout line (parsed as JSON) matching `predicate` */
  waitForLine(predicate: (line: any) => boolean): Promise<any>
  stop(): Promise<void>
  readonly process: ChildProcess
}

const running = new Set<ChildProcess>()

/** A JSON line as an object, any other line as the string it is */
function parseLine (line: string): any {
  try {
    return JSON.parse(line)
  } catch {
    return line
  }
}

/** Start `node --import tsx <args>` in the repository; stopped at the end of the test at the latest */
export function startNode (args: string[]): ProcessHandle {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  const lines: string[] = []
  const waiters: Array<{ predicate: (line: any) => boolean, resolve: (line: any) => void }> = []
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  createInterface({ input: child.stdout! }).on('line', line => {
    lines.push(line)
    const parsed = parseLine(line)
    for (const waiter of [...waiters]) {
      if (waiter.predicate(parsed)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(parsed)
      }
    }
  })
  const exited = new Promise<void>(resolve => child.once('exit', () => { running.delete(child); resolve() }))
  return {
    lines,
    process: child,
    async waitForLine (predicate) {
      for (const line of lines) {
        const parsed = parseLine(line)
        if (predicate(parsed)) return parsed
      }
      return Promise.race([
        new Promise(resolve => waiters.push({ predicate, resolve })),
        exited.then(() => { throw new Error(`process ${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before printing the line waited for; stderr: ${stderr}`) })
      ])
    },
    async stop () {
      if (child.exitCode == null && child.signalCode == null) child.kill('SIGTERM')
      await exited
    }
  }
}

/** One request a point started with `logRequests` served (`--log-requests`) */
export interface PointRequest {
  type: 'REGISTER' | 'UNREGISTER' | 'DISCOVER'
  /** Null for an UNREGISTER or DISCOVER of every namespace */
  namespace: string | null
  peer: string
}

export interface PointHandle extends ProcessHandle {
  peerId: string
  /** The point's WebSocket address, for browsers */
  address: string
  /** The point's WebRTC-direct address, for browsers */
  webrtcDirect: string
  /** The requests served so far, when started with `logRequests` */
  requests(filter?: Partial<PointRequest>): PointRequest[]
}

/** A rendezvous point of the test's own (to stop and restart it): the command line's server mode, as `npm run demo` runs it */
export interface PointOptions {
  /** The WebSocket port (`--ws-port`); 0, the default, picks a free one */
  port?: number
  /** `--key-file`: a restarted point keeps its peer id */
  keyFile?: string
  /** `--log-requests` */
  logRequests?: boolean
  /** `--max-namespace-length` */
  maxNamespaceLength?: number
  /** `--relay-duration-limit`, seconds */
  relayDurationLimit?: number
}

export async function startPoint (options: PointOptions = {}): Promise<PointHandle> {
  const args = ['src/cli/main.ts', '--mode', 'server', '--json', '--stats-interval', '0', '--ws-port', String(options.port ?? 0)]
  if (options.keyFile != null) args.push('--key-file', options.keyFile)
  if (options.logRequests === true) args.push('--log-requests')
  if (options.maxNamespaceLength != null) args.push('--max-namespace-length', String(options.maxNamespaceLength))
  if (options.relayDurationLimit != null) args.push('--relay-duration-limit', String(options.relayDurationLimit))
  const handle = startNode(args)
  const first = await handle.waitForLine(line => typeof line === 'object' && line?.peerId != null)
  const address = (first.multiaddrs as string[]).find(ma => ma.includes('/ws/'))
  if (address == null) throw new Error(`the point has no WebSocket address: ${first.multiaddrs.join(' ')}`)
  const webrtcDirect = (first.multiaddrs as string[]).find(ma => ma.includes('/webrtc-direct/')) ?? ''
  const requests = (filter: Partial<PointRequest> = {}): PointRequest[] => handle.lines
    .map(parseLine)
    .filter((line): line is PointRequest => line?.event === 'request')
    .filter(line => Object.entries(filter).every(([key, value]) => (line as any)[key] === value))
  return Object.assign(handle, { peerId: first.peerId as string, address, webrtcDirect, requests })
}

interface Fixtures {
  /** Stops, after each test, the processes it started and left running (it failed half-way, say) */
  cleanup: void
  /**
   * Open the demo in a fresh browser context (its own storage: its own
   * peer) and wait for its node to start, unless `started` is false (for
   * settings the page should refuse).
   */
  openPeer(options: PageOptions & { started?: boolean, init?: () => void, context?: BrowserContextOptions }): Promise<Peer>
}

interface WorkerFixtures {
  /**
   * A Chromium we launch ourselves and drive over CDP without Playwright's
   * focus emulation, so that a page in a background tab is really hidden
   * (visibilityState, timer throttling), as for a user. Only its default
   * context behaves that way.
   */
  realBrowser: { browser: Browser, context: BrowserContext }
}

export const test = base.extend<Fixtures, WorkerFixtures>({
  cleanup: [async ({ browserName: _ }, use) => {
    await use()
    await Promise.all([...running].map(async child => {
      if (child.exitCode != null || child.signalCode != null) return
      const exited = new Promise(resolve => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }))
  }, { auto: true }],

  openPeer: async ({ browser }, use, testInfo) => {
    const peers: Peer[] = []
    await use(async (options) => {
      const context = await browser.newContext(options.context)
      const page = await context.newPage()
      if (options.init != null) await page.addInitScript(options.init)
      const demo = new DemoPage(page)
      peers.push({ context, demo, page, id: '' })
      await demo.goto(options)
      const id = options.started === false ? '' : await demo.selfId()
      const peer = { context, demo, page, id }
      peers[peers.length - 1] = peer
      return peer
    })
    if (testInfo.status !== testInfo.expectedStatus) {
      for (const [i, peer] of peers.entries()) {
        await testInfo.attach(`console of peer ${i} ${peer.id}`, { body: peer.demo.logs.join('\n'), contentType: 'text/plain' })
      }
    }
    await Promise.all(peers.map(async peer => peer.context.close().catch(() => {})))
  },

  realBrowser: [async ({ browserName: _ }, use) => {
    const dir = mkdtempSync(join(tmpdir(), 'rendezvous-e2e-chromium-'))
    const executable = chromiumPath() ?? chromium.executablePath()
    const proc = spawn(executable, [
      ...CHROMIUM_ARGS, '--headless', '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0',
      `--user-data-dir=${dir}`, 'about:blank'
    ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true })
    const exited = new Promise<void>(resolve => proc.once('exit', () => { resolve() }))
    // Chromium says where its DevTools endpoint is on stderr
    const endpoint = await new Promise<string>((resolve, reject) => {
      let output = ''
      proc.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(output)
        if (match != null) resolve(match[1])
      })
      void exited.then(() => { reject(new Error(`Chromium exited before it listened for DevTools: ${output}`)) })
    })
    const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true })
    try {
      await use({ browser, context: browser.contexts()[0] })
    } finally {
      await browser.close().catch(() => {})
      try { process.kill(-proc.pid!, 'SIGTERM') } catch { /* already gone */ }
      await exited
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
    }
  }, { scope: 'worker' }]
})


/**
 * Where a test writes a picture of the page: into docs/ when UPDATE_SCREENSHOT
 * is set (that is how the pictures there are made), else into its own output
 */
export function screenshotPath (testInfo: TestInfo, name: string): string {
  return process.env.UPDATE_SCREENSHOT != null ? resolve(root, 'docs', name) : testInfo.outputPath(name)
}
