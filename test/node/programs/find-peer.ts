/**
 * A Node program that uses the SDK the way the README shows, and adds no
 * shims of its own: it finds one peer in `$NAMESPACE` through the point at
 * `$POINT` (a /ws address), prints its peer id and exits. A failure is printed
 * as `name: message` on stderr, with exit code 1.
 */
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { rendezvousDiscovery } from '../../../src/index.ts'

try {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { rendezvous: rendezvousDiscovery({ points: [process.env.POINT ?? ''], namespaces: [process.env.NAMESPACE ?? ''], cache: false }) }
  })
  const peer = await new Promise<string>(resolve => {
    node.services.rendezvous.addEventListener('peer', evt => { resolve(evt.detail.id.toString()) }, { once: true })
  })
  console.info(peer)
  await node.stop()
} catch (err: any) {
  console.error(`${err?.name}: ${err?.message}`)
  process.exitCode = 1
}
