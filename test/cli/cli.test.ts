/**
 * The command line end to end: real child processes, real sockets on
 * loopback, random ports. Nothing here waits on a clock; every wait ends on
 * a line of output or an exit, bounded by the test timeout.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { webRTCDirect } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { FLAGS } from '../../src/cli/args.ts'
import { createNode } from '../../src/cli/node.ts'
import { killAll, startCli, startClient, startPoint } from './cli-process.ts'
import { isPlainTcp } from '../fixtures/addresses.ts'
import type { Libp2p } from '@libp2p/interface'

const STACK_FRAME = /^\s+at /m

let dialer: Libp2p | undefined

afterEach(async () => {
  await killAll()
  await dialer?.stop()
  dialer = undefined
})

/** A port on loopback that nobody listens on (it was free a moment ago) */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

function expectOneLineError (stderr: string): void {
  expect(stderr.trimEnd().split('\n')).toHaveLength(1)
  expect(stderr).not.toMatch(STACK_FRAME)
  expect(stderr).toMatch(/^libp2p-rendezvous: /)
}

describe('libp2p-rendezvous --mode server', () => {
  it('given --json, prints {"peerId", "multiaddrs"} first, and every multiaddr dials that peer', async () => {
    const { peerId, multiaddrs } = await startPoint()

    expect(multiaddrs.some(ma => ma.includes('/ws/'))).toBe(true)
    expect(multiaddrs.some(ma => ma.includes('/webrtc-direct/certhash/'))).toBe(true)
    expect(multiaddrs.some(isPlainTcp)).toBe(true)
    // the CLI's own node dials TCP and WebSockets; WebRTC-direct is for browsers, and Node peers with @libp2p/webrtc
    dialer = await createLibp2p({ transports: [tcp(), webSockets(), webRTCDirect()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    for (const ma of multiaddrs) {
      expect(ma.endsWith(`/p2p/${peerId}`)).toBe(true)
      const connection = await dialer.dial(multiaddr(ma))
      expect(connection.remotePeer.toString()).toBe(peerId)
      await connection.close()
    }
  })

  it('given --announce, prints the announced addresses (the first JSON line too) besides where it listens', async () => {
    const announced = '/dns4/rdv.example.com/tcp/443/wss'
    const { peerId, multiaddrs } = await startPoint(['--announce', announced])
    expect(multiaddrs).toEqual([`${announced}/p2p/${peerId}`])

    const cli = startCli(['--mode', 'server', '--stats-interval', '0', '--announce', announced])
    await cli.line(line => line.startsWith('Press Ctrl+C'))
    const text = cli.lines.join('\n')
    expect(text).toMatch(new RegExp(`Rendezvous server listening on:\n/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/\\S+\n/ip4/127\\.0\\.0\\.1/tcp/\\d+/ws/p2p/\\S+\n/ip4/127\\.0\\.0\\.1/udp/\\d+/webrtc-direct/certhash/\\S+\nAnnounced to peers as:\n${announced}/p2p/`))
    expect(text).toContain(`--address ${announced}/p2p/`)
  })

  it('given --key-file and --webrtc-port, a restarted point prints the same WebRTC-direct address, certhash and all', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'rendezvous-cli-webrtc-'))
    try {
      const keyFile = join(directory, 'point.key')
      const webRTCDirect = (multiaddrs: string[]): string | undefined => multiaddrs.find(ma => ma.includes('/webrtc-direct/certhash/'))
      const first = await startPoint(['--key-file', keyFile])
      const address = webRTCDirect(first.multiaddrs) ?? ''
      const port = /\/udp\/(\d+)\//.exec(address)?.[1] ?? ''
      await first.cli.stop()

      const again = await startPoint(['--key-file', keyFile, '--webrtc-port', port])
      expect(webRTCDirect(again.multiaddrs)).toBe(address)
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })

  it('given a limit flag, the point holds to it (--max-connections 1: a second peer is refused)', async () => {
    const { multiaddrs } = await startPoint(['--max-connections', '1'])
    dialer = await createNode({ host: '127.0.0.1', port: 0, wsPort: 0 }, {})
    const second = await createNode({ host: '127.0.0.1', port: 0, wsPort: 0 }, {})
    try {
      await dialer.dial(multiaddr(multiaddrs[0]))
      await expect(second.dial(multiaddr(multiaddrs[0]))).rejects.toThrow()
    } finally {
      await second.stop()
    }
  })

  it('given --log-requests, prints every request it serves as an event', async () => {
    const point = await startPoint(['--log-requests'])
    const client = await startClient(point.multiaddrs[0], ['--namespace', 'chat'])

    const lines = point.cli.lines.slice(1).map(line => JSON.parse(line))
    expect(lines).toEqual(expect.arrayContaining([
      expect.objectContaining({ event: 'request', type: 'REGISTER', namespace: 'chat', peer: client.peerId }),
      expect.objectContaining({ event: 'request', type: 'DISCOVER', namespace: 'chat', peer: client.peerId })
    ]))
  })

  it('given SIGTERM, stops and exits with 0 (also as libp2p-rendezvous-server)', async () => {
    const { cli } = await startPoint([], 'src/cli/server-main.ts')

    expect(await cli.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    expect(cli.stderr).toBe('')
  })
})

describe('libp2p-rendezvous --mode client', () => {
  it('given two clients in one namespace, each prints the other and marks itself, and the point counts both', async () => {
    const point = await startPoint(['--stats-interval', '0.5'])
    const alice = await startClient(point.multiaddrs[0])
    const bob = await startClient(point.multiaddrs[1]) // over WebSockets, as a browser would

    // bob's first discover already holds alice; alice finds bob by polling with her cookie
    await bob.cli.line(line => line.includes(`Found peer: ${alice.peerId}`))
    await alice.cli.line(line => line.includes(`Found peer: ${bob.peerId}`))
    await alice.cli.line(line => line.includes(`Found self: ${alice.peerId}`))
    await bob.cli.line(line => line.includes(`Found self: ${bob.peerId}`))
    // each peer is printed with addresses ready to dial
    await bob.cli.line(line => line.trim().startsWith('/ip4/127.0.0.1/tcp/') && line.endsWith(`/p2p/${alice.peerId}`))
    await point.cli.line(line => JSON.parse(line).namespaces?.rendezvous === 2)
  })

  it('given --refresh, registers again before each granted TTL lapses', async () => {
    const point = await startPoint(['--min-ttl', '1'])
    const { cli } = await startClient(point.multiaddrs[0], ['--ttl', '2', '--refresh'])

    await cli.line(line => line.includes('Registered with TTL 2s; registering again every 2s'))
    await cli.line(line => line.includes("Registered again in 'rendezvous' with TTL 2s"))
    expect(cli.stderr).toBe('')
  })

  it('given SIGTERM, unregisters: a later client no longer finds it', async () => {
    const point = await startPoint()
    const leaver = await startClient(point.multiaddrs[0])

    expect(await leaver.cli.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    expect(leaver.cli.lines.some(line => line.includes("Unregistered from 'rendezvous'"))).toBe(true)

    const later = await startClient(point.multiaddrs[0])
    expect(later.cli.lines).toContain('Total peers found: 1')
    expect(later.cli.lines.join('\n')).not.toContain(leaver.peerId)
  })

  it('given a malformed frame at its WebSocket address, closes that connection and carries on', async () => {
    const point = await startPoint()
    const { cli } = await startClient(point.multiaddrs[0])
    const ws = cli.lines.map(line => line.trim()).find(line => line.includes('/ws/'))
    const socket = new WebSocket(`ws://127.0.0.1:${String(ws).split('/tcp/')[1].split('/')[0]}`)
    const closed = new Promise<number>(resolve => socket.once('close', resolve))
    socket.on('error', () => {})
    await new Promise(resolve => socket.once('open', resolve))

    // a frame with a reserved opcode
    ;(socket as unknown as { _socket: { write(bytes: Uint8Array): void } })._socket.write(Uint8Array.from([0x83, 0x80, 0, 0, 0, 0]))

    expect(await closed).toBe(1002)
    expect(await cli.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    expect(cli.lines.some(line => line.includes("Unregistered from 'rendezvous'"))).toBe(true)
  })

  it('given a TTL the point refuses, names the status on one line of stderr and exits non-zero', async () => {
    const point = await startPoint(['--min-ttl', '600'])
    const cli = startCli(['--mode', 'client', '--address', point.multiaddrs[0], '--ttl', '60'])

    const { code } = await cli.exited
    expect(code).not.toBe(0)
    expectOneLineError(cli.stderr)
    expect(cli.stderr).toContain('InvalidTTLError')
  })

  it('given a point nobody listens at, says so on one line of stderr and exits non-zero', async () => {
    const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const cli = startCli(['--mode', 'client', '--address', `/ip4/127.0.0.1/tcp/${await closedPort()}/p2p/${peerId}`])

    const { code } = await cli.exited
    expect(code).not.toBe(0)
    expectOneLineError(cli.stderr)
    expect(cli.stderr).toContain('cannot reach the rendezvous point')
  })
})

describe('libp2p-rendezvous command line', () => {
  it('given --help, documents every flag', async () => {
    const cli = startCli(['--help'])

    expect(await cli.exited).toEqual({ code: 0, signal: null })
    const help = cli.lines.join('\n')
    for (const [name, flag] of Object.entries(FLAGS)) {
      expect(help).toContain(`--${name}`)
      if ('short' in flag) expect(help).toContain(`-${flag.short}, --${name}`)
    }
  })

  it.each([
    ['a bad address', ['--mode', 'client', '--address', 'not-a-multiaddr']],
    ['an unknown flag', ['--mode', 'server', '--colour']]
  ])('given %s, prints one line to stderr and exits with 2', async (_, args) => {
    const cli = startCli(args)

    expect((await cli.exited).code).toBe(2)
    expectOneLineError(cli.stderr)
  })
})
