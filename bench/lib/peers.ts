/**
 * Registrations for benchmarks. Two kinds, because signing is what makes
 * real ones slow to make:
 * - `realPeers`: peers with keys of their own and records they signed, for
 *   anything a client verifies against its registration (the browser runs);
 * - `fillNamespace`: one real record stored under many peer ids, for the
 *   namespace sizes of the scale runs. A store keeps records as opaque bytes
 *   and a client verifies each one it receives, so it is a faithful load.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { sealPeerRecord } from '../../src/protocol/peer-record.ts'
import type { RegistrationStore } from '../../src/server/index.ts'
import type { PrivateKey } from '@libp2p/interface'

export interface RealPeer {
  key: PrivateKey
  peerId: string
  /** Signed peer record envelope */
  record: Uint8Array
}

/** An address of the length a browser behind a relay registers with */
function relayAddress (i: number): string {
  return `/ip4/198.51.100.${i % 250}/tcp/443/wss/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK/p2p-circuit`
}

export async function realPeers (count: number): Promise<RealPeer[]> {
  return Promise.all(Array.from({ length: count }, async (_, i) => {
    const key = await generateKeyPair('Ed25519')
    const record = await sealPeerRecord(key, [multiaddr(relayAddress(i))], 1n)
    return { key, peerId: peerIdFromPrivateKey(key).toString(), record }
  }))
}

const unlimited = { maxPerPeer: Number.MAX_SAFE_INTEGER, maxTotal: Number.MAX_SAFE_INTEGER }

/** Register every peer in `namespace`, straight into the store */
export async function registerPeers (store: RegistrationStore, namespace: string, peers: RealPeer[], expiresAt: number): Promise<void> {
  for (const peer of peers) {
    await store.register({ peerId: peer.peerId, namespace, signedPeerRecord: peer.record, seq: 1n, expiresAt }, unlimited, Date.now())
  }
}

/** `count` registrations in `namespace` sharing one real record, straight into the store */
export async function fillNamespace (store: RegistrationStore, namespace: string, count: number, expiresAt = Date.now() + 3_600_000): Promise<void> {
  const [peer] = await realPeers(1)
  for (let i = 0; i < count; i++) {
    await store.register({ peerId: `bench-peer-${i}`, namespace, signedPeerRecord: peer.record, seq: 1n, expiresAt }, unlimited, Date.now())
  }
}
