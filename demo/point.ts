/**
 * A local rendezvous point for the demo and the end-to-end tests: a libp2p
 * node listening on WebSockets that serves `/rendezvous/1.0.0` and runs a
 * circuit relay, so that browsers can both find and reach each other.
 *
 *   node --import tsx demo/point.ts [--host 127.0.0.1] [--port 0] [--key-file point.key]
 *                                   [--min-ttl 10] [--max-namespace-length 255] [--json] [--log-requests]
 *
 * The first line on stdout says where it listens; with `--json` it is
 * `{"peerId": "...", "multiaddrs": ["..."]}`. `--log-requests` then prints
 * one JSON line per request the registration store serves, e.g.
 * `{"request": "DISCOVER", "namespace": "demo"}`, for tests that watch the
 * traffic. SIGINT or SIGTERM stop it.
 *
 * One addition to the spec's behaviour: a browser is reachable only through
 * this point's relay, so when its connection to us closes (the tab was
 * closed, crashed or lost the network) its registrations point nowhere. They
 * are dropped then, instead of lingering until their TTL runs out; a tab that
 * closes does try to UNREGISTER, but it is often torn down before it can.
 */
import '../src/node/compat.ts'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { memoryStore, rendezvousServer } from '../src/server/index.ts'
import type { RegistrationStore } from '../src/server/index.ts'
import type { PeerId, PrivateKey } from '@libp2p/interface'

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    'key-file': { type: 'string' },
    'min-ttl': { type: 'string', default: '10' },
    'max-namespace-length': { type: 'string', default: '255' },
    json: { type: 'boolean', default: false },
    'log-requests': { type: 'boolean', default: false }
  }
})

/** The same key on every start when a key file is given, so a restarted point keeps its peer id */
async function loadKey (file?: string): Promise<PrivateKey> {
  if (file != null && existsSync(file)) return privateKeyFromProtobuf(readFileSync(file))
  const key = await generateKeyPair('Ed25519')
  if (file != null) writeFileSync(file, privateKeyToProtobuf(key), { mode: 0o600 })
  return key
}

function log (line: Record<string, unknown>): void {
  if (args['log-requests']) console.log(JSON.stringify(line))
}

/** The store, telling stdout about every request it serves when asked to */
function loggingStore (store: RegistrationStore): RegistrationStore {
  return {
    register: async (registration, limits, now) => {
      log({ request: 'REGISTER', namespace: registration.namespace, peer: registration.peerId })
      return store.register(registration, limits, now)
    },
    unregister: async (peerId, namespace, now) => {
      log({ request: 'UNREGISTER', namespace: namespace ?? null, peer: peerId })
      return store.unregister(peerId, namespace, now)
    },
    discover: async (namespace, after, limit, now) => {
      log({ request: 'DISCOVER', namespace: namespace ?? null })
      return store.discover(namespace, after, limit, now)
    },
    namespaceStats: async (now) => store.namespaceStats(now),
    prune: async (now) => store.prune(now)
  }
}

const store = memoryStore()

const node = await createLibp2p({
  privateKey: await loadKey(args['key-file']),
  addresses: { listen: [`/ip4/${args.host}/tcp/${Number(args.port)}/ws`] },
  transports: [webSockets()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: {
    // every browser tab on this machine dials from the same address, and a test run opens many
    inboundConnectionThreshold: 1000
  },
  services: {
    identify: identify(),
    ping: ping(),
    relay: circuitRelayServer({ reservations: { maxReservations: 256 } }),
    rendezvous: rendezvousServer({
      minTtl: Number(args['min-ttl']),
      maxNamespaceLength: Number(args['max-namespace-length']),
      store: loggingStore(store)
    })
  }
})

/** Whether every address in the record is a relay path through this point */
function onlyThroughUs (signedPeerRecord: Uint8Array): boolean {
  try {
    const record = PeerRecord.createFromProtobuf(RecordEnvelope.createFromProtobuf(signedPeerRecord).payload)
    const viaUs = `/p2p/${node.peerId.toString()}/p2p-circuit`
    return record.multiaddrs.length > 0 && record.multiaddrs.every(ma => ma.toString().includes(viaUs))
  } catch {
    return false
  }
}

/** Drop the registrations of a peer that is gone, when nobody could reach it any more */
async function dropUnreachable (peer: PeerId): Promise<void> {
  if (node.getConnections(peer).length > 0) return
  const now = Date.now()
  let cursor = 0n
  while (true) {
    const page = await store.discover(undefined, cursor, 1000, now)
    for (const registration of page.registrations) {
      if (registration.peerId !== peer.toString() || !onlyThroughUs(registration.signedPeerRecord)) continue
      await store.unregister(registration.peerId, registration.namespace, now)
      log({ event: 'dropped', namespace: registration.namespace, peer: registration.peerId })
    }
    if (page.registrations.length === 0) break
    cursor = page.cursor
  }
}
node.addEventListener('peer:disconnect', (evt) => {
  dropUnreachable(evt.detail).catch(err => { console.error('could not drop the registrations of %s: %s', evt.detail, err) })
})

const multiaddrs = node.getMultiaddrs().map(ma => ma.toString())
if (args.json) {
  console.log(JSON.stringify({ peerId: node.peerId.toString(), multiaddrs }))
} else {
  console.log(`Rendezvous point ${node.peerId.toString()} listening on`)
  for (const ma of multiaddrs) console.log(`  ${ma}`)
}

let stopping = false
async function shutdown (): Promise<void> {
  if (stopping) return
  stopping = true
  await node.stop()
  process.exit(0)
}
process.on('SIGINT', () => { void shutdown() })
process.on('SIGTERM', () => { void shutdown() })
