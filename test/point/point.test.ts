/**
 * The whole point as `createRendezvousPoint` makes it: what it listens on and
 * tells peers, its identity on disk, its statistics, the relay reservations
 * of peers that leave, and the init it refuses.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hostOf } from '../../src/server/point/host-limits.ts'
import { browserShaped, cleanUp, dialer, relayAddresses, startPoint, wsAddress } from './support.ts'
import type { IdentifyResult } from '@libp2p/interface'

afterEach(cleanUp)

const ANNOUNCED = '/dns4/rdv.example.com/tcp/443/wss'

describe('createRendezvousPoint', () => {
  it('by default listens on TCP, WebSockets and WebRTC-direct on loopback, with the rendezvous, relay, identify and ping protocols', async () => {
    const point = await startPoint()

    expect(point.getMultiaddrs().map(String)).toEqual([
      expect.stringMatching(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${point.peerId.toString()}$`)),
      expect.stringMatching(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/ws/p2p/${point.peerId.toString()}$`)),
      expect.stringMatching(new RegExp(`^/ip4/127\\.0\\.0\\.1/udp/\\d+/webrtc-direct/certhash/u[\\w-]+/p2p/${point.peerId.toString()}$`))
    ])
    expect(point.getProtocols()).toEqual(expect.arrayContaining([
      '/rendezvous/1.0.0', '/libp2p/circuit/relay/0.2.0/hop', '/ipfs/id/1.0.0', '/ipfs/ping/1.0.0'
    ]))
  })

  it('getStats: connections, relay reservations and registrations per namespace', async () => {
    const point = await startPoint()
    expect(await point.services.point.getStats()).toEqual({ connections: 0, reservations: 0, namespaces: new Map() })

    await browserShaped(wsAddress(point))

    expect(await point.services.point.getStats()).toEqual({ connections: 1, reservations: 1, namespaces: new Map() })
  })

  it('a relay reservation ends when its peer disconnects, and relayed dials to that peer are refused', async () => {
    const point = await startPoint()
    const [alice, bob] = [await browserShaped(wsAddress(point)), await browserShaped(wsAddress(point))]
    const aliceAddress = multiaddr(relayAddresses(alice)[0])

    await alice.stop()

    await expect.poll(() => point.services.relay.reservations.has(alice.peerId)).toBe(false)
    await expect(bob.dial(aliceAddress)).rejects.toThrow()
    expect(point.services.relay.reservations.has(bob.peerId)).toBe(true)
  })
})

describe('announce', () => {
  it('peers are told the announced address instead of the listen addresses, which getListenAddrs still gives', async () => {
    const point = await startPoint({ announce: [ANNOUNCED] })
    const id = point.peerId.toString()

    expect(point.getMultiaddrs().map(String)).toEqual([`${ANNOUNCED}/p2p/${id}`])
    const listening = point.services.point.getListenAddrs().map(String)
    expect(listening).toEqual([
      expect.stringMatching(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/),
      expect.stringMatching(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws$/),
      expect.stringMatching(/^\/ip4\/127\.0\.0\.1\/udp\/\d+\/webrtc-direct\/certhash\/u[\w-]+$/)
    ])

    // identify tells a peer the announced address
    const peer = await dialer()
    const identified = new Promise<IdentifyResult>(resolve => peer.addEventListener('peer:identify', evt => { resolve(evt.detail) }, { once: true }))
    await peer.dial(multiaddr(`${listening[0]}/p2p/${id}`))
    expect((await identified).listenAddrs.map(String)).toEqual([ANNOUNCED])
  })

  it('a browser that reserves at the point gets a relay address built on the announced address', async () => {
    const point = await startPoint({ announce: [ANNOUNCED, '/ip4/203.0.113.7/tcp/4001'] })
    const ws = point.services.point.getListenAddrs().find(ma => ma.toString().includes('/ws'))
    const browser = await browserShaped(multiaddr(`${String(ws)}/p2p/${point.peerId.toString()}`))

    const via = (announced: string): string => `${announced}/p2p/${point.peerId.toString()}/p2p-circuit/p2p/${browser.peerId.toString()}`
    expect(relayAddresses(browser)).toEqual(expect.arrayContaining([via(ANNOUNCED), via('/ip4/203.0.113.7/tcp/4001')]))
  })

  it('an announce address with our own /p2p/ is taken as it is; another peer\'s id, or no multiaddr at all, is refused', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    const own = `${ANNOUNCED}/p2p/${peerIdFromPrivateKey(privateKey).toString()}`
    expect((await startPoint({ privateKey, announce: [own] })).getMultiaddrs().map(String)).toEqual([own])
    const other = (await startPoint()).peerId.toString()

    await expect(startPoint({ announce: [`${ANNOUNCED}/p2p/${other}`] })).rejects.toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
    await expect(startPoint({ announce: ['rdv.example.com:443'] })).rejects.toThrow(expect.objectContaining({ name: 'InvalidParametersError' }))
  })
})

describe('keyFile', () => {
  let directory: string

  beforeEach(async () => { directory = await mkdtemp(join(tmpdir(), 'rendezvous-point-key-')) })
  afterEach(async () => { await rm(directory, { recursive: true, force: true }) })

  it('creates the key (readable by its owner only) and keeps the peer id across restarts', async () => {
    const keyFile = join(directory, 'point.key')
    const first = await startPoint({ keyFile })
    const id = first.peerId.toString()
    await first.stop()

    expect((await stat(keyFile)).mode & 0o777).toBe(0o600)
    const again = await startPoint({ keyFile })
    expect(again.peerId.toString()).toBe(id)
    expect((await readFile(keyFile)).byteLength).toBeGreaterThan(32)
  })

  it('a file that holds no key, or one that cannot be written, is a KeyFileError; the file is left as it was', async () => {
    const garbage = join(directory, 'garbage.key')
    await writeFile(garbage, 'not a key')

    await expect(startPoint({ keyFile: garbage })).rejects.toThrow(expect.objectContaining({ name: 'KeyFileError' }))
    expect(await readFile(garbage, 'utf8')).toBe('not a key')
    await expect(startPoint({ keyFile: join(directory, 'missing', 'point.key') })).rejects.toThrow(expect.objectContaining({ name: 'KeyFileError' }))
  })
})

describe('init the point refuses', () => {
  it('a limit of 0, a fractional limit, or both a key and a key file: InvalidParametersError', async () => {
    const refused = expect.objectContaining({ name: 'InvalidParametersError' })

    await expect(startPoint({ limits: { maxConnections: 0 } })).rejects.toThrow(refused)
    await expect(startPoint({ limits: { relayDataLimit: 1.5 } })).rejects.toThrow(refused)
    await expect(startPoint({ privateKey: await generateKeyPair('Ed25519'), keyFile: 'point.key' })).rejects.toThrow(refused)
  })
})

describe('hostOf', () => {
  it.each([
    ['/ip4/198.51.100.7/tcp/4001', '198.51.100.7'],
    ['/ip4/198.51.100.7/tcp/4002/ws', '198.51.100.7'],
    ['/ip6/2001:db8:1:2:3:4:5:6/tcp/4001', '2001:db8:1:2::/64'],
    ['/ip6/2001:db8:1:2::9/tcp/4001', '2001:db8:1:2::/64'],
    ['/ip6/2001:0db8:0001:0002:ffff::1/tcp/4001', '2001:db8:1:2::/64'],
    ['/ip6/2001:db8::/tcp/4001', '2001:db8:0:0::/64'],
    ['/ip6/::1/tcp/4001', '0:0:0:0::/64'],
    ['/ip6/::ffff:198.51.100.7/tcp/4001', '198.51.100.7'],
    ['/dns4/rdv.example.com/tcp/443/wss', undefined]
  ])('%s is host %s', (address, host) => {
    expect(hostOf(multiaddr(address))).toBe(host)
  })
})
