/**
 * The command line as people expect it to behave: a bad setting exits 2
 * with one line that names the flag, never an error class; --version; the
 * server-only program's help; --json keeps every line JSON, errors too; the
 * client reports peers that leave; the store's password can stay out of the
 * command line. Real child processes on loopback, as in cli.test.ts.
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startRedis } from '../store/redis-server.ts'
import { killAll, startCli, startClient, startPoint } from './cli-process.ts'
import type { RedisServer } from '../store/redis-server.ts'
import type { AddressInfo } from 'node:net'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))

afterEach(async () => {
  await killAll()
})

/** What a user should see for a bad setting: one line, the program's name, no class name, no stack */
function expectUsageLine (stderr: string, program = 'libp2p-rendezvous'): void {
  expect(stderr.trimEnd().split('\n')).toHaveLength(1)
  expect(stderr.startsWith(`${program}: `)).toBe(true)
  expect(stderr).not.toMatch(/[A-Z][a-z]+Error\b|^\s+at /m)
}

describe('a bad setting', () => {
  it.each([
    ['a store of no known kind', ['--mode', 'server', '--store', 'foo:'], '--store: unsupported store "foo:"'],
    ['a shortest TTL above the longest', ['--mode', 'server', '--min-ttl', '500', '--max-ttl', '100'], '--min-ttl (500) must be at least 1 and at most --max-ttl (100)'],
    ['an unknown option', ['--mode', 'server', '--colour'], 'unknown option --colour (see --help)'],
    ['a mistyped option', ['--mode', 'client', '--adress', '/ip4/127.0.0.1/tcp/1'], 'unknown option --adress; did you mean --address?'],
    ['an option without its value', ['--mode', 'server', '--store', '--verbose'], '--store needs a value'],
    ['a key file it cannot write', ['--mode', 'server', '--key-file', '/nonexistent/dir/point.key'], '--key-file: cannot write the key file /nonexistent/dir/point.key'],
    ['an announce address of another peer', ['--mode', 'server', '--announce', '/ip4/203.0.113.7/tcp/4001/p2p/12D3KooWKjEbMrksSZ2eNfbaydcxmKNGYR6AexEeeq2NcqAcSceU'], '--announce: /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW']
  ])('given %s, exits 2 with one line that says which flag and why', async (_, args, message) => {
    const cli = startCli(args)

    expect((await cli.exited).code).toBe(2)
    expectUsageLine(cli.stderr)
    expect(cli.stderr).toContain(message)
    expect(cli.lines).toEqual([])
  })

  it('given a port another program holds, exits 2 with one line that names the flags and the reason', async () => {
    const holder = createServer()
    await new Promise<void>(resolve => holder.listen(0, '127.0.0.1', resolve))
    const { port } = holder.address() as AddressInfo
    try {
      const cli = startCli(['--mode', 'server', '--port', String(port)])

      expect((await cli.exited).code).toBe(2)
      expectUsageLine(cli.stderr)
      expect(cli.stderr).toContain(`--host/--port/--ws-port: cannot listen on /ip4/127.0.0.1/tcp/${port}: address already in use (EADDRINUSE)`)
    } finally {
      holder.close()
    }
  })

  it('given a store of no known kind in RENDEZVOUS_STORE, names the variable and exits 2', async () => {
    const cli = startCli(['--mode', 'server'], undefined, { RENDEZVOUS_STORE: 'mongodb://admin:secret@db' })

    expect((await cli.exited).code).toBe(2)
    expectUsageLine(cli.stderr)
    expect(cli.stderr).toContain('RENDEZVOUS_STORE: unsupported store "mongodb:"')
    expect(cli.stderr).not.toContain('secret')
  })
})

describe('--version and --help', () => {
  it('given --version, prints the package version', async () => {
    const cli = startCli(['--version'])

    expect(await cli.exited).toEqual({ code: 0, signal: null })
    expect(cli.lines).toEqual([pkg.version])
  })

  it('given --help to libp2p-rendezvous-server, describes the server alone', async () => {
    const cli = startCli(['--help'], 'src/cli/server-main.ts')

    expect(await cli.exited).toEqual({ code: 0, signal: null })
    const help = cli.lines.join('\n')
    expect(help).toMatch(/^Usage: libp2p-rendezvous-server \[options\]/)
    expect(help).toContain('--max-connections')
    expect(help).not.toMatch(/client|--mode|--namespace|--address/i)
  })
})

describe('--json', () => {
  it('given --json, every line on stdout is JSON, the client\'s and the point\'s, and so are errors', async () => {
    const point = await startPoint(['--stats-interval', '0.2', '--log-requests'])
    const alice = startCli(['--mode', 'client', '--json', '--address', point.multiaddrs[0], '--poll-interval', '0.2'])
    await alice.line(line => JSON.parse(line).event === 'peer')
    await point.cli.line(line => JSON.parse(line).event === 'stats' && JSON.parse(line).namespaces.rendezvous === 1)
    await alice.stop('SIGTERM')
    await point.cli.stop('SIGTERM')

    for (const line of [...point.cli.lines, ...alice.lines]) expect(() => JSON.parse(line), line).not.toThrow()
    expect(alice.lines.map(line => JSON.parse(line).event)).toEqual(expect.arrayContaining(['connected', 'registered', 'peer', 'unregistered']))

    const failing = startCli(['--mode', 'server', '--json', '--min-ttl', '500', '--max-ttl', '100'])
    expect((await failing.exited).code).toBe(2)
    expect(failing.lines).toEqual([])
    expect(JSON.parse(failing.stderr)).toEqual({ event: 'error', time: expect.any(String), message: expect.stringContaining('--min-ttl (500)') })
  })
})

describe('the client', () => {
  it('given a peer that leaves, prints that it left', async () => {
    const point = await startPoint()
    const alice = await startClient(point.multiaddrs[0])
    const bob = await startClient(point.multiaddrs[0])
    await alice.cli.line(line => line.includes(`Found peer: ${bob.peerId}`))

    await bob.cli.stop('SIGTERM')

    await alice.cli.line(line => line.endsWith(`Peer left: ${bob.peerId}`))
    expect(alice.cli.lines.filter(line => line.includes(`Peer left: `))).toHaveLength(1)
  })
})

describe('the store URL from RENDEZVOUS_STORE', () => {
  let redis: RedisServer

  beforeAll(async () => {
    redis = await startRedis({ password: 'hunter2' })
  })

  afterAll(async () => {
    await redis?.destroy()
  })

  it('given RENDEZVOUS_STORE with a password and no --store, uses that store, and the password shows nowhere', async () => {
    const url = `redis://:hunter2@127.0.0.1:${redis.port}/0`
    const point = startCli(['--mode', 'server', '--stats-interval', '0'], undefined, { RENDEZVOUS_STORE: url })
    await point.line(line => line.startsWith('Press Ctrl+C'))
    const client = await startClient(point.lines[2].replace(/^.*?(\/ip4\/)/, '$1'))
    expect(client.cli.lines).toContain('Total peers found: 1')

    expect(point.lines).toContain(`Registrations: redis://:***@127.0.0.1:${redis.port}/0, TTL 120-259200 s`)
    expect([...point.lines, point.stderr].join('\n')).not.toContain('hunter2')
  })
})
