/**
 * The README stays true to the package. Its command-line section: the
 * sample session is what a point and two clients print (peer ids, ports,
 * times and counts aside), and the flag tables list every flag `--help`
 * knows, and nothing else. Its API section names every event of the
 * discovery service and every error class the package exports. Its links
 * work where the package registry shows it. Real child processes on
 * loopback, as in cli.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { FLAGS } from '../../src/cli/args.ts'
import * as sdk from '../../src/index.ts'
import * as server from '../../src/server/index.ts'
import { killAll, startCli } from './cli-process.ts'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const section = readme.slice(readme.indexOf('<!-- cli:start -->'), readme.indexOf('<!-- cli:end -->'))
const session = /```console\n([\s\S]*?)```/.exec(section)?.[1] ?? ''

/** The lines the README shows for one terminal: after its `$ ` command, up to the next comment or command */
function shown (command: string): string[] {
  const lines = session.split('\n')
  const from = lines.findIndex(line => line.startsWith('$ ') && line.includes(command))
  const rest = lines.slice(from + 1)
  const to = rest.findIndex(line => line.startsWith('#') || line.startsWith('$ ') || line === '')
  return from < 0 ? [] : rest.slice(0, to < 0 ? rest.length : to)
}

/** A README line as a pattern: its peer ids, hashes, times and numbers stand for any */
function pattern (line: string): RegExp {
  const escaped = line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    // an id or hash cut short with "…" (peer ids, certhashes) stands for the whole
    .replace(/[\w-]+…/g, '[\\w-]+')
    .replace(/\\\[\d\d:\d\d:\d\d\\\]/g, '\\[\\d\\d:\\d\\d:\\d\\d\\]')
    .replace(/\d+/g, '[\\d.]+')
  return new RegExp(`^${escaped}$`)
}

/** Every README line matches a line of `printed`, in the README's order */
function expectInOrder (readmeLines: string[], printed: string[]): void {
  expect(readmeLines.length).toBeGreaterThan(3)
  let at = 0
  for (const line of readmeLines) {
    const found = printed.findIndex((candidate, i) => i >= at && pattern(line).test(candidate))
    expect(found, `README line "${line}" not printed (in order) by the program:\n${printed.join('\n')}`).toBeGreaterThanOrEqual(0)
    at = found + 1
  }
}

afterEach(async () => {
  await killAll()
})

describe('the README\'s command line', () => {
  it('given a point and two clients as in its sample session, they print what it shows', async () => {
    // what `npm run rendezvous` sets, so the point prints the command as the README shows it
    const asNpmRun = { npm_lifecycle_event: 'rendezvous' }
    const point = startCli(['--mode', 'server', '--stats-interval', '0.5'], undefined, asNpmRun)
    const command = (await point.line(line => line.includes(' --mode client --address '))).trim()
    const address = command.split(' --address ')[1]
    const first = startCli(['--mode', 'client', '--address', address, '--poll-interval', '0.2'])
    await first.line(line => line.startsWith('Watching for peers'))
    const second = startCli(['--mode', 'client', '--address', address, '--poll-interval', '0.2'])
    await second.line(line => line.startsWith('Watching for peers'))
    await point.line(line => line.endsWith('Namespace stats: rendezvous: 2'))

    await first.stop('SIGTERM')
    await second.line(line => line.includes('Peer left: '))
    await second.stop('SIGTERM')
    await point.stop('SIGTERM')

    expect(command).toMatch(/^npm run rendezvous -- --mode client --address /)
    expectInOrder(shown('--mode server'), point.lines)
    expectInOrder(shown('--mode client'), second.lines)
  })

  it('lists every flag in its tables, and no flag the program does not know', () => {
    const tables = section.split('\n').filter(line => line.startsWith('| `'))
    const listed = new Set(tables.flatMap(line => [...line.split('|')[1].matchAll(/--([a-z-]+)/g)].map(match => match[1])))

    expect([...listed].sort()).toEqual(Object.keys(FLAGS).sort())
  })

  it('names every event --json prints', () => {
    const cli = new URL('../../src/cli/', import.meta.url)
    const sources = ['client-mode.ts', 'server-mode.ts'].map(file => readFileSync(new URL(file, cli), 'utf8')).join('\n')
    const events = [...sources.matchAll(/output\.event\('([a-z-]+)'/g)].map(match => match[1])
    const json = section.split('\n').find(line => line.startsWith('| `--json`')) ?? ''

    expect(events.length).toBeGreaterThan(5)
    for (const event of events) expect(json, event).toContain(`\`${event}\``)
  })
})

describe('the README\'s API section', () => {
  const between = (name: string): string => readme.slice(readme.indexOf(`<!-- ${name}:start -->`), readme.indexOf(`<!-- ${name}:end -->`))
  const firstColumn = (table: string): string => table.split('\n').filter(line => line.startsWith('| `')).map(line => line.split(' | ')[0]).join('\n')

  it('shows every event of the discovery service', () => {
    const api = readFileSync(new URL('../../src/discovery/api.ts', import.meta.url), 'utf8')
    const declared = [...api.matchAll(/^\s+'([a-z:]+)': CustomEvent</gm)].map(match => match[1])
    const events = firstColumn(between('events'))

    expect(declared.length).toBeGreaterThan(3)
    // `peer` is libp2p's PeerDiscoveryEvents', which the service's events extend
    for (const name of ['peer', ...declared]) expect(events, name).toContain(`\`${name}\``)
  })

  it('shows every error class the package exports', () => {
    const classes = Object.entries({ ...sdk, ...server })
      .filter(([, value]) => typeof value === 'function' && value.prototype instanceof Error)
      .map(([name]) => name)
    const errors = firstColumn(between('errors'))

    expect(classes).toContain('PointsDeniedError')
    for (const name of classes) expect(errors, name).toContain(`\`${name}\``)
  })
})

describe('the README\'s links', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  const repository = String(pkg.repository.url).replace(/^git\+/, '').replace(/\.git$/, '')
  const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map(match => match[1])
  /** GitHub's anchors for the README's headings */
  const anchors = new Set([...readme.matchAll(/^#+ (.*)$/gm)].map(match => `#${match[1].toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')}`))

  it('are absolute, or anchors of its own headings, since the registry shows the README without the repository around it', () => {
    expect(links.length).toBeGreaterThan(5)
    for (const link of links) expect(link, link).toMatch(/^(https:\/\/|#)/)
    for (const link of links.filter(link => link.startsWith('#'))) expect(anchors, link).toContain(link)
  })

  it('into the repository name files it has', () => {
    const own = links.filter(link => link.startsWith(`${repository}/`))
    expect(own.length).toBeGreaterThan(3)
    for (const link of own) {
      const path = link.slice(repository.length).replace(/^\/(?:blob|tree|raw)\/main\//, '').replace(/#.*$/, '')
      expect(existsSync(new URL(`../../${path}`, import.meta.url)), link).toBe(true)
    }
  })
})
