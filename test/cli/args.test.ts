import { describe, expect, it } from 'vitest'
import { FLAGS, parseCommand, usage } from '../../src/cli/args.ts'
import { DEFAULT_LIMITS } from '../../src/server/index.ts'

const POINT = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWKjEbMrksSZ2eNfbaydcxmKNGYR6AexEeeq2NcqAcSceU'

describe('parseCommand', () => {
  it('given only --mode server, applies the documented defaults', () => {
    expect(parseCommand(['--mode', 'server'])).toEqual({
      mode: 'server',
      listen: { host: '127.0.0.1', port: 0, wsPort: 0 },
      webrtcDirect: { port: 0, required: false },
      json: false,
      verbose: false,
      store: 'memory:',
      announce: [],
      statsInterval: 10_000,
      logRequests: false,
      limits: DEFAULT_LIMITS,
      policy: {
        minTtl: 120,
        maxTtl: 259200,
        defaultTtl: 7200,
        maxRegistrationsPerPeer: 1000,
        maxRegistrations: 100_000,
        maxNamespaceLength: 255,
        maxDiscoverLimit: 1000,
        allowEmptyAddresses: false,
        dropOnDisconnect: true
      }
    })
  })

  it('given server flags, maps them onto RendezvousServerInit', () => {
    const command = parseCommand(['--mode', 'server', '-p', '4001', '--ws-port', '4002', '--host', '::', '--json', '-v',
      '--store', 'redis://localhost:6379', '--stats-interval', '0', '--min-ttl', '60', '--max-ttl', '3600', '--default-ttl', '600',
      '--max-registrations-per-peer', '5', '--max-registrations', '50', '--max-namespace-length', '32', '--max-discover-limit', '10',
      '--allow-empty-addresses'])
    expect(command).toMatchObject({
      listen: { host: '::', port: 4001, wsPort: 4002 },
      json: true,
      verbose: true,
      store: 'redis://localhost:6379',
      statsInterval: 0,
      policy: { minTtl: 60, maxTtl: 3600, defaultTtl: 600, maxRegistrationsPerPeer: 5, maxRegistrations: 50, maxNamespaceLength: 32, maxDiscoverLimit: 10, allowEmptyAddresses: true }
    })
  })

  it('given the limit flags, --announce (repeated), --keep-disconnected and --log-requests, maps them onto the point\'s init', () => {
    const command = parseCommand(['--mode', 'server', '--max-connections', '500', '--max-connections-per-host', '50', '--max-connection-rate-per-host', '20',
      '--max-pending-connections', '30', '--max-reservations', '400', '--max-relayed-per-peer', '8', '--relay-data-limit', '1048576', '--relay-duration-limit', '1.5', '--max-websocket-message', '2097152',
      '--announce', '/dns4/rdv.example.com/tcp/443/wss', '--announce', '/ip4/203.0.113.7/tcp/4001', '--keep-disconnected', '--log-requests'])
    expect(command).toMatchObject({
      limits: {
        maxConnections: 500,
        maxConnectionsPerHost: 50,
        maxConnectionRatePerHost: 20,
        maxPendingConnections: 30,
        maxReservations: 400,
        maxRelayedConnectionsPerPeer: 8,
        relayDataLimit: 1_048_576,
        relayDurationLimit: 1500,
        maxWebSocketMessageSize: 2_097_152
      },
      logRequests: true,
      policy: { dropOnDisconnect: false }
    })
    expect(command.mode === 'server' && command.announce.map(String)).toEqual(['/dns4/rdv.example.com/tcp/443/wss', '/ip4/203.0.113.7/tcp/4001'])
  })

  it('given --webrtc-port, WebRTC-direct is required on that UDP port; given --no-webrtc, there is none; both contradict', () => {
    expect(parseCommand(['--mode', 'server', '--webrtc-port', '4003'])).toMatchObject({ webrtcDirect: { port: 4003, required: true } })
    expect(parseCommand(['--mode', 'server', '--no-webrtc'])).not.toHaveProperty('webrtcDirect')
    expect(() => parseCommand(['--mode', 'server', '--no-webrtc', '--webrtc-port', '4003'])).toThrow(expect.objectContaining({ name: 'UsageError' }))
  })

  it('given client flags, reads them, defaulting to namespace rendezvous and TTL 7200 s', () => {
    const command = parseCommand(['--mode', 'client', '--address', POINT])
    expect(command).toMatchObject({ mode: 'client', namespace: 'rendezvous', ttl: 7200, refresh: false, pollInterval: 5000 })
    expect(command.mode === 'client' && command.address.toString()).toBe(POINT)

    expect(parseCommand(['--mode', 'client', POINT, '-n', 'chat', '--ttl', '300', '-r', '--poll-interval', '0.5']))
      .toMatchObject({ namespace: 'chat', ttl: 300, refresh: true, pollInterval: 500 })
  })

  it('given --help, asks for help whatever else is there', () => {
    expect(parseCommand(['--mode', 'client', '--help'])).toEqual({ mode: 'help', json: false })
    expect(parseCommand(['-h', '--json'])).toEqual({ mode: 'help', json: true })
    expect(parseCommand(['--version'])).toEqual({ mode: 'version', json: false })
  })

  it('given no --store, takes the store URL from RENDEZVOUS_STORE, and --store over it', () => {
    const env = { RENDEZVOUS_STORE: 'redis://:secret@127.0.0.1:6379/0' }
    expect(parseCommand(['--mode', 'server'], undefined, env)).toMatchObject({ store: env.RENDEZVOUS_STORE })
    expect(parseCommand(['--mode', 'server', '--store', 'memory:'], undefined, env)).toMatchObject({ store: 'memory:' })
    expect(parseCommand(['--mode', 'server'], undefined, {})).toMatchObject({ store: 'memory:' })
  })

  it.each([
    ['an unknown option', ['--mode', 'server', '--colour'], 'unknown option --colour'],
    ['a mistyped option', ['--mode', 'client', POINT, '--namespce', 'x'], 'unknown option --namespce; did you mean --namespace?'],
    ['an unknown short option', ['--mode', 'server', '-x'], 'unknown option -x'],
    ['a value for a switch', ['--mode', 'server', '--json=yes'], '--json takes no value'],
    ['an option without its value, at the end', ['--mode', 'server', '--port'], '--port needs a value'],
    ['an option without its value, before another', ['--mode', 'server', '--store', '--json'], '--store needs a value'],
    ['a store of no known kind', ['--mode', 'server', '--store', 'foo:'], '--store: unsupported store "foo:"'],
    ['a shortest TTL above the longest', ['--mode', 'server', '--min-ttl', '500', '--max-ttl', '100'], '--min-ttl (500) must be at least 1 and at most --max-ttl (100)'],
    ['a default TTL outside the bounds', ['--mode', 'server', '--default-ttl', '60'], '--default-ttl (60) must lie between --min-ttl (120) and --max-ttl (259200)']
  ])('given %s, says so in the flags\' own words', (_, argv, message) => {
    expect(() => parseCommand(argv, undefined, {})).toThrow(expect.objectContaining({ name: 'UsageError', message: expect.stringContaining(message) }))
  })

  it('given a store of no known kind in RENDEZVOUS_STORE, names the variable, not the URL', () => {
    expect(() => parseCommand(['--mode', 'server'], undefined, { RENDEZVOUS_STORE: 'bad://:secret@host' }))
      .toThrow(expect.objectContaining({ name: 'UsageError', message: expect.stringMatching(/^RENDEZVOUS_STORE: unsupported store "bad:"/) }))
  })

  it('given the server-only program, runs server mode and refuses --mode client', () => {
    expect(parseCommand([], 'server')).toMatchObject({ mode: 'server' })
    expect(parseCommand(['--mode', 'server'], 'server')).toMatchObject({ mode: 'server' })
    expect(() => parseCommand(['--mode', 'client'], 'server')).toThrow(expect.objectContaining({ name: 'UsageError' }))
  })

  it.each([
    ['no mode', []],
    ['an unknown mode', ['--mode', 'relay']],
    ['an unknown flag', ['--mode', 'server', '--colour']],
    ['a flag without its value', ['--mode', 'server', '--port']],
    ['a port out of range', ['--mode', 'server', '--port', '70000']],
    ['a port that is no number', ['--mode', 'server', '--ws-port', 'eighty']],
    ['a host name instead of an IP address', ['--mode', 'server', '--host', 'localhost']],
    ['a TTL of 0', ['--mode', 'client', POINT, '--ttl', '0']],
    ['a fractional TTL', ['--mode', 'client', POINT, '--ttl', '1.5']],
    ['a negative interval', ['--mode', 'server', '--stats-interval', '-1']],
    ['a max TTL above the spec\'s 72 h', ['--mode', 'server', '--max-ttl', '259201']],
    ['a poll interval of 0', ['--mode', 'client', POINT, '--poll-interval', '0']],
    ['a client flag in server mode', ['--mode', 'server', '--namespace', 'x']],
    ['a server flag in client mode', ['--mode', 'client', POINT, '--store', 'memory:']],
    ['a stray argument in server mode', ['--mode', 'server', POINT]],
    ['no address in client mode', ['--mode', 'client']],
    ['two addresses', ['--mode', 'client', '--address', POINT, POINT]],
    ['an address that is no multiaddr', ['--mode', 'client', '--address', 'localhost:4001']],
    ['an announce address that is no multiaddr', ['--mode', 'server', '--announce', 'rdv.example.com:443']],
    ['a limit of 0', ['--mode', 'server', '--max-connections', '0']],
    ['a relay duration limit of 0', ['--mode', 'server', '--relay-duration-limit', '0']],
    ['a limit flag in client mode', ['--mode', 'client', POINT, '--max-reservations', '10']]
  ])('given %s, throws a UsageError', (_, argv) => {
    expect(() => parseCommand(argv)).toThrow(expect.objectContaining({ name: 'UsageError' }))
  })
})

describe('usage', () => {
  it('documents every flag with its default, and the server-only program only its own', () => {
    const help = usage('libp2p-rendezvous')
    for (const [name, flag] of Object.entries(FLAGS)) {
      expect(help).toContain(`--${name}`)
      if ('default' in flag) expect(help).toMatch(new RegExp(`--${name}\\b.*\\(default: ${'env' in flag ? `\\$${flag.env}, else ` : ''}${flag.default.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`))
    }
    const serverHelp = usage('libp2p-rendezvous-server', 'server')
    expect(serverHelp).toContain('--max-ttl')
    expect(serverHelp).not.toContain('--namespace')
    expect(serverHelp).not.toContain('--mode')
    expect(serverHelp).not.toMatch(/client/i)
  })
})
