/**
 * The package as a new user meets it: packed with `npm pack`, installed into
 * a fresh app next to libp2p (from the npm cache), the README's snippet
 * copied into a page built with vite, two browser contexts pointed at a
 * local point started with `npx libp2p-rendezvous` from the tarball; then
 * the examples, each run as its README says.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from './fixtures.ts'
import { npmInstall, pack, root, run, serve, start, stopAll, viteBuild, writePage } from './package-app.ts'
import type { Browser, Page } from '@playwright/test'
import type { Server } from 'node:http'

/** A code block of the README: the first one of `lang` after the line that contains `after` */
function readmeBlock (after: string, lang: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const from = readme.indexOf(after)
  if (from < 0) throw new Error(`README.md has no "${after}"`)
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme.slice(from))
  if (match == null) throw new Error(`README.md has no ${lang} block after "${after}"`)
  return match[1]
}

const SNIPPET = readmeBlock('### Find and be found', 'ts')
const FIX = readmeBlock('**Against a point on your own machine**', 'ts')
/** The point the snippet names, which a user replaces with theirs */
const EXAMPLE_POINT = /'(\/dns4\/rdv\.example\.com\/[^']+)'/.exec(SNIPPET)?.[1] ?? ''
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const browserExample = JSON.parse(readFileSync(join(root, 'examples/browser/package.json'), 'utf8'))
const nodeExample = JSON.parse(readFileSync(join(root, 'examples/node/package.json'), 'utf8'))

/** `deps` as `name@range`, but our own package from the tarball */
function installList (deps: Record<string, string>, tarball: string): string[] {
  return Object.entries(deps).map(([name, range]) => name === pkg.name ? tarball : `${name}@${range}`)
}

let dir: string
let app: string
let tarball: string
let installOutput: string
/** Server-only packages the browser app's install brought in */
let serverOnly: string[]
let point: { peerId: string, ws: string, tcp: string }
let site: { url: string, server: Server }

test.describe.configure({ mode: 'serial', timeout: 600_000 })

test.beforeAll(async () => {
  // packing, two installs and three builds: minutes on a busy machine
  test.setTimeout(600_000)
  dir = mkdtempSync(join(tmpdir(), 'rendezvous-package-'))
  tarball = await pack(dir)
  app = join(dir, 'app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'new-app', private: true, type: 'module' }))
  // what the browser example's README says to install, then what builds it and what the Node example adds
  // what the README's snippet imports and the browser example depends on, at the ranges this repository uses
  const snippetImports = Object.fromEntries([...SNIPPET.matchAll(/^import .* from '([^']+)'$/gm)].map(([, name]) => [name, pkg.devDependencies[name] ?? browserExample.dependencies[name]]))
  installOutput = await npmInstall(app, installList({ ...browserExample.dependencies, ...snippetImports }, tarball))
  serverOnly = ['ioredis', '@libp2p/tcp'].filter(name => existsSync(join(app, 'node_modules', name)))
  await npmInstall(app, [...installList(browserExample.devDependencies, tarball), ...installList(nodeExample.dependencies, tarball).filter(p => p.startsWith('@libp2p/tcp@'))])

  // the point, as someone without a clone runs it: npx, from the tarball alone, in an empty directory
  const empty = join(dir, 'empty')
  mkdirSync(empty)
  const cli = start('npx', ['--yes', '--prefer-offline', `--package=${tarball}`, 'libp2p-rendezvous', '--mode', 'server', '--json', '--stats-interval', '0'], empty)
  const first = JSON.parse(await cli.line(line => line.startsWith('{')))
  const multiaddrs: string[] = first.multiaddrs
  point = { peerId: first.peerId, ws: multiaddrs.find(ma => ma.includes('/ws/')) ?? '', tcp: multiaddrs.find(ma => !ma.includes('/ws/')) ?? '' }

  const snippet = SNIPPET.replace(EXAMPLE_POINT, point.ws) + "console.info('self', node.peerId.toString())\n"
  writePage(join(app, 'as-is'), snippet, writeFileSync)
  writePage(join(app, 'fixed'), snippet.replace('createLibp2p({\n', `createLibp2p({\n${FIX}`), writeFileSync)
  cpSync(join(root, 'examples/browser'), join(app, 'example'), { recursive: true, filter: src => !src.endsWith('package.json') })
  cpSync(join(root, 'examples/node'), join(app, 'node-example'), { recursive: true, filter: src => !src.endsWith('package.json') })
  for (const page of ['as-is', 'fixed', 'example']) await viteBuild(app, join(app, page))
  site = await serve(app)
})

test.afterAll(async () => {
  await stopAll()
  site?.server.close()
  if (dir != null) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 })
})

/** A page in a context of its own (its own peer), with its console kept */
async function open (browser: Browser, url: string): Promise<{ page: Page, logs: string[] }> {
  const context = await browser.newContext()
  const page = await context.newPage()
  const logs: string[] = []
  page.on('console', msg => logs.push(msg.text()))
  page.on('pageerror', err => logs.push(`pageerror ${err.name}: ${err.message}`))
  await page.goto(url)
  return { page, logs }
}

/** The line of `logs` that matches, once there */
async function logged (logs: string[], matches: (line: string) => boolean): Promise<string> {
  try {
    await expect.poll(() => logs.find(matches) ?? '').not.toBe('')
  } catch (err: any) {
    throw new Error(`${err?.message}\nthe page's console:\n${logs.join('\n')}`)
  }
  return logs.find(matches) ?? ''
}

test('installing it into a browser app installs no server-only dependency and warns of no install script', () => {
  expect(installOutput).not.toMatch(/install.?script/i)
  expect(serverOnly).toEqual([])
})

test('the README snippet as copied, against a local point: createLibp2p rejects with PointsDeniedError and the fix', async ({ browser }) => {
  const { logs } = await open(browser, `${site.url}/as-is/dist/`)

  const error = await logged(logs, line => line.startsWith('pageerror'))
  expect(error).toContain('PointsDeniedError')
  expect(error).toContain(FIX.trim().split('   //')[0].replace(/,$/, ''))
})

test('the README snippet with its fix for a local point: a second context finds the first', async ({ browser }) => {
  const alice = await open(browser, `${site.url}/fixed/dist/`)
  const aliceId = (await logged(alice.logs, line => line.startsWith('self '))).slice('self '.length)
  const bob = await open(browser, `${site.url}/fixed/dist/`)
  const bobId = (await logged(bob.logs, line => line.startsWith('self '))).slice('self '.length)

  await logged(bob.logs, line => line === `found ${aliceId}`)
  expect(bob.logs).not.toContain(`found ${bobId}`)
  expect([...alice.logs, ...bob.logs].filter(line => line.startsWith('pageerror'))).toEqual([])
})

test('examples/browser: two windows list each other', async ({ browser }) => {
  const url = `${site.url}/example/dist/?point=${encodeURIComponent(point.ws)}`
  const alice = await open(browser, url)
  const bob = await open(browser, url)
  const ids = await Promise.all([alice, bob].map(async ({ page }) => {
    await expect(page.locator('#me')).toHaveText(/^12D3KooW/)
    return page.locator('#me').textContent()
  }))

  await expect(bob.page.locator(`#peers [data-peer="${ids[0]}"]`)).toBeVisible()
  await expect(alice.page.locator(`#peers [data-peer="${ids[1]}"]`)).toBeVisible()
})

test('examples/node: two programs find each other, and one sees the other leave', async () => {
  const dirOf = join(app, 'node-example')
  const [alice, bob] = [0, 1].map(() => start(process.execPath, ['find-peers.mjs', point.tcp, 'node-example'], dirOf))
  const ids = await Promise.all([alice, bob].map(async program => (await program.line(line => line.startsWith('I am '))).split(' ')[2].replace(/,$/, '')))

  await bob.line(line => line.startsWith(`found ${ids[0]} at /ip4/127.0.0.1/tcp/`))
  await alice.line(line => line.startsWith(`found ${ids[1]} at /ip4/127.0.0.1/tcp/`))

  await alice.stop()
  await bob.line(line => line === `${ids[0]} left (unregistered)`)
})

test('npx libp2p-rendezvous in the app: --version and --help', async () => {
  expect((await run('npx', ['libp2p-rendezvous', '--version'], app)).trim()).toBe(pkg.version)
  expect(await run('npx', ['libp2p-rendezvous-server', '--help'], app)).toContain('Usage: libp2p-rendezvous-server')
})
