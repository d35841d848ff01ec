/**
 * A browser app pointed at a local point (ws://127.0.0.1), as a developer
 * first tries it: libp2p's default connection gater in browsers refuses such
 * addresses, and the node must say so when it starts, with the fix, rather
 * than start and find nothing.
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { rendezvousDiscovery } from '../../src/index.ts'
import type { RendezvousDiscovery } from '../../src/index.ts'
import type { Libp2p } from '@libp2p/interface'

type Node = Libp2p<{ rendezvous: RendezvousDiscovery }>

const POINT = inject('rendezvousPoint')
const nodes: Node[] = []

afterEach(async () => {
  await Promise.all(nodes.splice(0).map(async node => node.stop()))
})

async function start (points: string[], allowLocal: boolean): Promise<Node> {
  const node = await createLibp2p({
    addresses: { listen: ['/p2p-circuit'] },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(allowLocal ? { connectionGater: { denyDialMultiaddr: () => false } } : {}),
    services: { identify: identify(), rendezvous: rendezvousDiscovery({ points, namespaces: ['gater'] }) }
  })
  nodes.push(node)
  return node
}

describe('the connection gater and the points', () => {
  it('given only a local point and the default gater, createLibp2p rejects with PointsDeniedError and the fix', async () => {
    const failure = await start([POINT], false).then(() => undefined, (err: Error) => err)

    expect(failure?.name).toBe('PointsDeniedError')
    expect(failure?.message).toContain(POINT)
    expect(failure?.message).toContain('connectionGater: { denyDialMultiaddr: () => false }')
  })

  it('given the fix, the same node starts and registers at the local point', async () => {
    const node = await start([POINT], true)

    await expect.poll(() => node.services.rendezvous.getRegistrations().map(r => r.status)).toEqual(['registered'])
  })

  it('given one point the gater allows besides the local one, starts', async () => {
    const elsewhere = '/dns4/rdv.example.com/tcp/443/wss/p2p/12D3KooWKjEbMrksSZ2eNfbaydcxmKNGYR6AexEeeq2NcqAcSceU'
    const node = await start([POINT, elsewhere], false)

    expect(node.status).toBe('started')
  })
})
