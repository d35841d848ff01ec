// A Node program finds its peers through a rendezvous point, until Ctrl+C:
//   node find-peers.mjs <point multiaddr, with /p2p/<id>> [namespace]
import 'libp2p-rendezvous/node-compat' // first: what libp2p needs of Node 20 (harmless on 22)
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { rendezvousDiscovery } from 'libp2p-rendezvous'

const [point, namespace = 'my-app'] = process.argv.slice(2)
if (point == null) {
  console.error('usage: node find-peers.mjs <rendezvous point multiaddr> [namespace]')
  process.exit(2)
}

const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    // newcomers show at the next poll: every 5 s here, a minute by default
    rendezvous: rendezvousDiscovery({ points: [point], namespaces: [namespace], discoverInterval: 5_000 })
  }
})
const { rendezvous } = node.services
console.info(`I am ${node.peerId}, registering in ${namespace}`)

rendezvous.addEventListener('peer', (evt) => { console.info(`found ${evt.detail.id} at ${evt.detail.multiaddrs.join(' ')}`) })
rendezvous.addEventListener('peer:remove', (evt) => { console.info(`${evt.detail.peer.id} left (${evt.detail.reason})`) })
rendezvous.addEventListener('registration:update', (evt) => {
  if (evt.detail.status === 'error') console.error(`registering at ${evt.detail.point}: ${evt.detail.errorName}: ${evt.detail.error}`)
})

// stopping unregisters, so the others see us leave at their next poll
const stop = () => { node.stop().finally(() => process.exit(0)) }
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
