/**
 * The browser's libp2p node: WebSockets, WebRTC-direct or WebTransport to
 * reach the point, a circuit relay transport to be reachable through it,
 * WebRTC to meet other browsers directly (signalled through the relay), ping
 * to show a live connection, and the rendezvous discovery service.
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { webRTC, webRTCDirect } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { webTransport } from '@libp2p/webtransport'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { fromString, toString } from 'uint8arrays'
import { rendezvousDiscovery } from '../src/index.ts'
import { isLocalOrInsecure } from './config.ts'
import type { DemoConfig } from './config.ts'
import type { RendezvousDiscovery } from '../src/index.ts'
import type { Ping } from '@libp2p/ping'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export type DemoNode = Libp2p<{ ping: Ping, rendezvous: RendezvousDiscovery }>

const KEY_ITEM = 'libp2p-rendezvous-demo:key'

/**
 * Seconds: a short TTL, so a tab that vanished without unregistering (a
 * crash, a lost network) leaves others' lists within two minutes. Points
 * that refuse it are asked for 2 h instead, by the SDK.
 */
const DEMO_TTL = 120

/**
 * Milliseconds between polls: short, so that a new window shows up in the
 * others within a second or two. (The SDK's default is a minute; a real app
 * rarely needs more, and polls stop while the tab is hidden anyway.)
 */
const DEMO_DISCOVER_INTERVAL = 2000

/**
 * One identity per tab that survives reloads: sessionStorage is per tab, so
 * two windows are two peers, while a reload keeps the peer id (and so replaces
 * its own registration instead of leaving a stale one behind).
 */
async function tabKey (): Promise<PrivateKey> {
  const saved = sessionStorage.getItem(KEY_ITEM)
  if (saved != null) {
    try {
      return privateKeyFromProtobuf(fromString(saved, 'base64'))
    } catch {
      // unreadable: make a new one
    }
  }
  const key = await generateKeyPair('Ed25519')
  sessionStorage.setItem(KEY_ITEM, toString(privateKeyToProtobuf(key), 'base64'))
  return key
}

export async function createNode (config: DemoConfig, points: Multiaddr[]): Promise<DemoNode> {
  return createLibp2p({
    privateKey: await tabKey(),
    // reserve a slot at any relay we connect to (the point runs one): that is our public address
    addresses: { listen: ['/p2p-circuit'] },
    // WebRTC-direct reaches a point without a TLS certificate; WebTransport, go and rust points that offer it
    // (no js-libp2p node can listen on it, so it is not tested here); webRTC() meets other browsers directly:
    // the SDK registers a /webrtc address behind our relay address for it
    transports: [webSockets(), webRTCDirect(), webTransport(), webRTC(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // browsers' libp2p refuses ws:// and private addresses; allow them only for a local or dev point
    ...(points.some(isLocalOrInsecure) ? { connectionGater: { denyDialMultiaddr: () => false } } : {}),
    services: {
      identify: identify(),
      // libp2p's connection monitor pings every connection on the same protocol: room for it and the button's ping
      ping: ping({ maxOutboundStreams: 2 }),
      rendezvous: rendezvousDiscovery({
        points,
        namespaces: [config.namespace.trim()],
        ttl: config.ttl ?? DEMO_TTL,
        discoverInterval: config.discoverInterval ?? DEMO_DISCOVER_INTERVAL,
        // walk the whole namespace every time, so a peer that left vanishes at the next poll
        fullDiscoverEvery: 1
      })
    }
  })
}
