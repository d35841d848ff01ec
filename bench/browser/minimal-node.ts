/**
 * The minimal browser libp2p node the issue measures against: WebSockets,
 * noise, yamux and identify, nothing else. The bundle-cost apps and the
 * time-to-first-peer page both build on this one definition, so "with the
 * SDK" always means this node plus the SDK and nothing more.
 */
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import type { Libp2pOptions } from 'libp2p'

export function minimalNode (): Libp2pOptions & { services: { identify: ReturnType<typeof identify> } } {
  return {
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  }
}
