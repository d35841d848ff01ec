/**
 * Browser nodes as an app makes them, against the real point the global
 * setup starts, and what the tests read back from them.
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { defaultLogger } from '@libp2p/logger'
import { noise } from '@libp2p/noise'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createStore, get } from 'idb-keyval'
import { createLibp2p } from 'libp2p'
import { afterEach, inject } from 'vitest'
import { rendezvousDiscovery } from '../../src/index.ts'
import type { RegistrationState, RendezvousDiscovery, RendezvousDiscoveryInit } from '../../src/index.ts'
import type { ComponentLogger, Libp2p, PeerId, PrivateKey } from '@libp2p/interface'

export type Node = Libp2p<{ rendezvous: RendezvousDiscovery }>

export const POINT = inject('rendezvousPoint')
export const hour = 3_600_000
const nodes: Node[] = []

afterEach(async () => {
  await Promise.all(nodes.splice(0).map(async node => node.stop()))
})

/** A fresh namespace per test: the point is shared by every test in the run */
export function namespace (name: string): string {
  return `${name}-${Math.random().toString(36).slice(2)}`
}

interface NodeOptions {
  privateKey?: PrivateKey
  logger?: ComponentLogger
}

/** A browser node as an app would make it, not started yet so listeners can be added first */
export async function browserNode (init: Partial<RendezvousDiscoveryInit>, options: NodeOptions = {}): Promise<Node> {
  const node = await createLibp2p({
    start: false,
    privateKey: options.privateKey ?? await generateKeyPair('Ed25519'),
    // a reservation at the point's relay is this node's only address
    addresses: { listen: ['/p2p-circuit'] },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // the point is on ws://127.0.0.1, which browsers' libp2p refuses by default
    connectionGater: { denyDialMultiaddr: () => false },
    ...(options.logger != null ? { logger: options.logger } : {}),
    services: {
      identify: identify(),
      rendezvous: rendezvousDiscovery({ points: [POINT], ...init })
    }
  })
  nodes.push(node)
  return node
}

export async function peerEvent (node: Node, peer: PeerId): Promise<void> {
  await new Promise<void>(resolve => {
    node.services.rendezvous.addEventListener('peer', (evt) => {
      if (evt.detail.id.equals(peer)) resolve()
    })
  })
}

export async function registered (node: Node): Promise<RegistrationState> {
  const done = node.services.rendezvous.getRegistrations().find(s => s.status === 'registered')
  if (done != null) return done
  return new Promise(resolve => {
    node.services.rendezvous.addEventListener('registration:update', (evt) => {
      if (evt.detail.status === 'registered') resolve(evt.detail)
    })
  })
}

/** A page registered in `ns`, and a first visit as `self` (with `key`) that found it and cached it; the next node with `key` is the reload */
export async function firstVisit (ns: string): Promise<{ a: Node, key: PrivateKey, self: PeerId }> {
  const a = await browserNode({ namespaces: [ns] })
  await a.start()
  await registered(a)
  const key = await generateKeyPair('Ed25519')
  const before = await browserNode({ namespaces: [ns] }, { privateKey: key })
  const found = peerEvent(before, a.peerId)
  await before.start()
  await found
  await before.stop()
  return { a, key, self: before.peerId }
}

/** What the node with `peerId` keeps in IndexedDB for `ns`, read straight from the database */
export async function cachedIn (peerId: PeerId, ns: string): Promise<Array<{ peerId: string, expiresAt: number }> | undefined> {
  return get(['ns', ns], createStore(`libp2p-rendezvous/${peerId.toString()}`, 'registrations'))
}

/** Log lines of the discovery service; every other component logs as usual */
export function capture (lines: string[]): ComponentLogger {
  const logger = defaultLogger()
  return {
    forComponent (name) {
      const log = logger.forComponent(name)
      if (name !== 'libp2p:rendezvous:discovery') return log
      const error = log.error
      log.error = (formatter: any, ...args: any[]) => {
        lines.push([formatter, ...args.map(a => a?.message ?? a)].join(' '))
        error(formatter, ...args)
      }
      return log
    }
  }
}
