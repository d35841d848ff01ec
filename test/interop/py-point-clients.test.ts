/**
 * Our clients at the real py-libp2p point (the kit's `run-server.sh`): the
 * command line client as users run it, and the SDK (`rendezvousDiscovery`
 * in a real libp2p node over TCP) with `uncertifiedPeers: peerInfoSchema()`.
 * Each registers there in the pre-2020 form once py has refused its signed
 * record, finds py's peers and the other one (every peer at a py point is an
 * unsigned PeerInfo, so each comes marked), and unregisters; py's own client
 * sees them come and go. One py point serves the file, its tests one story
 * in order: py processes start slowly.
 */
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { peerInfoSchema, rendezvousDiscovery } from '../../src/index.ts'
import { killAll, startClient } from '../cli/cli-process.ts'
import { nextEvent } from '../discovery/harness.ts'
import { describeWithPy, discovered, pyClient, pyPoint, stopPy } from './py-libp2p.ts'
import type { DiscoveredPeer, RendezvousDiscovery, RendezvousDiscoveryInit } from '../../src/index.ts'
import type { CliProcess } from '../cli/cli-process.ts'
import type { PyProcess } from './py-libp2p.ts'
import type { Libp2p } from '@libp2p/interface'

const nodes: Libp2p[] = []

function self (py: PyProcess): string {
  return py.stdout.find(l => l.startsWith('SELF '))?.slice('SELF '.length) ?? ''
}

function ok (py: PyProcess): void {
  expect(py.stdout.at(-1), py.transcript()).toBe('RESULT ok')
}

/** A libp2p node as an app builds one, running the SDK at the py point */
async function sdkNode (address: string, init: Partial<RendezvousDiscoveryInit>): Promise<Libp2p<{ rendezvous: RendezvousDiscovery }>> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { rendezvous: rendezvousDiscovery({ points: [multiaddr(address)], cache: false, ...init }) }
  })
  nodes.push(node)
  return node
}

/** The peers of `namespace` in the SDK's view, once `wanted` are all in it */
async function peersOnceIn (service: RendezvousDiscovery, namespace: string, wanted: string[]): Promise<DiscoveredPeer[]> {
  const has = (): boolean => wanted.every(id => service.getPeers(namespace).some(p => p.id.toString() === id))
  // every walk is a full one at a point that holds them all already: a few at most, bounded all the same
  for (let walk = 0; walk < 10 && !has(); walk++) await service.findPeers(namespace, { forceRefresh: true })
  return service.getPeers(namespace)
}

describeWithPy('our clients at a py-libp2p point', () => {
  let address: string
  let pyId: string
  let pyAddresses: string[]
  let sdk: Libp2p<{ rendezvous: RendezvousDiscovery }>
  let cli: CliProcess
  let cliId: string
  const mark = ' (uncertified: an unsigned PeerInfo)'

  beforeAll(async () => {
    ({ address } = await pyPoint())
    const py = await pyClient(address, ['-n', 'meet', '--no-unregister'])
    ok(py)
    pyId = self(py)
    pyAddresses = discovered(py).get(pyId) ?? []
    expect(pyAddresses.length).toBeGreaterThan(0)
  })

  afterAll(async () => {
    await Promise.all(nodes.splice(0).map(async node => node.stop()))
    await killAll()
    await stopPy()
  })

  it('given uncertifiedPeers, then the SDK registers (as a PeerInfo, once py refused its record) and finds py\'s peer, marked uncertified', async () => {
    sdk = await sdkNode(address, { namespaces: ['meet'], uncertifiedPeers: peerInfoSchema() })
    const service = sdk.services.rendezvous
    if (!service.getRegistrations().some(r => r.status === 'registered')) await nextEvent(service, 'registration:update', r => r.status === 'registered')
    expect(service.getRegistrations().map(r => [r.status, r.ttl])).toEqual([['registered', 7200]])

    const peers = await peersOnceIn(service, 'meet', [pyId])
    expect(peers.map(p => [p.id.toString(), p.certified, p.seq, p.multiaddrs.map(String)])).toEqual([[pyId, false, 0n, pyAddresses]])
  })

  it('given the SDK and a py peer registered, then our CLI client registers and prints both and itself, each marked uncertified, with py\'s addresses as py gave them', async () => {
    ({ cli, peerId: cliId } = await startClient(address, ['-n', 'meet']))
    expect(cli.lines.some(l => l.endsWith('Registered with TTL 7200s; pass --refresh to register again before it lapses'))).toBe(true)
    for (const [label, id] of [['Found peer', pyId], ['Found peer', sdk.peerId.toString()], ['Found self', cliId]]) {
      expect(cli.lines.some(l => l.endsWith(`${label}: ${id}${mark}`)), cli.lines.join('\n')).toBe(true)
    }
    for (const pyAddress of pyAddresses) expect(cli.lines.some(l => l.trim() === pyAddress)).toBe(true)

    // and the SDK finds the CLI client; its own registration is never shown to it
    const peers = await peersOnceIn(sdk.services.rendezvous, 'meet', [cliId])
    expect(peers.map(p => [p.id.toString(), p.certified]).sort()).toEqual([[cliId, false], [pyId, false]].sort())
  })

  it('given both registered, then py\'s client finds them with the addresses they listen on', async () => {
    const looking = await pyClient(address, ['-n', 'meet', '--discover-only'])
    ok(looking)
    const seen = discovered(looking)
    const sdkId = sdk.peerId.toString()
    expect([...seen.keys()].sort()).toEqual([pyId, cliId, sdkId].sort())
    expect(seen.get(sdkId)).toEqual(sdk.getMultiaddrs().map(ma => ma.toString().replace(`/p2p/${sdkId}`, '')))
  })

  it('given the SDK stopped and the CLI client sent SIGTERM, then both unregister and py finds only its own peer', async () => {
    await sdk.stop()
    expect((await cli.stop('SIGTERM')).code).toBe(0)
    expect(cli.lines.some(l => l.endsWith("Unregistered from 'meet'"))).toBe(true)
    const after = await pyClient(address, ['-n', 'meet', '--discover-only'])
    ok(after)
    expect([...discovered(after).keys()]).toEqual([pyId])
  })

  it('given the SDK without uncertifiedPeers (the default), then py refuses its record (NotAuthorizedError) and no py peer reaches the app', async () => {
    const strict = await sdkNode(address, {})
    const service = strict.services.rendezvous
    await expect(service.register('meet', { ttl: 7200 })).rejects.toThrow()
    expect(service.getRegistrations().map(r => r.errorName)).toEqual(['NotAuthorizedError'])
    expect(await service.findPeers('meet', { forceRefresh: true })).toEqual([])
    expect(service.getPoints().map(p => p.status)).toEqual(['ok'])
  })
})
