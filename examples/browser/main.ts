// Browsers find each other through a rendezvous point. The point comes from the page's address,
// ?point=<multiaddr>: the /ws address `npx libp2p-rendezvous --mode server` prints, say.
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { rendezvousDiscovery } from 'libp2p-rendezvous'

const point = new URLSearchParams(location.search).get('point') ?? '/dns4/rdv.example.com/tcp/443/wss/p2p/12D3KooW...'
// browsers refuse ws:// and loopback addresses unless told otherwise: allow them for a point on this machine only
const onThisMachine = /^\/(ip4\/127\.|ip6\/::1\/|dns4?\/localhost\/)/.test(point)

const node = await createLibp2p({
  addresses: { listen: ['/p2p-circuit'] },     // a browser is reachable through the point's relay
  transports: [webSockets(), circuitRelayTransport()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  ...(onThisMachine ? { connectionGater: { denyDialMultiaddr: () => false } } : {}),
  services: {
    identify: identify(),
    // a window finds those already there at once, and newcomers at its next poll: every 5 s here, a minute by default
    rendezvous: rendezvousDiscovery({ points: [point], namespaces: ['my-app'], discoverInterval: 5_000 })
  }
})

document.querySelector('#me')!.textContent = node.peerId.toString()
const list = document.querySelector('#peers')!

node.addEventListener('peer:discovery', (evt) => {
  const id = evt.detail.id.toString()
  if (list.querySelector(`[data-peer="${id}"]`) != null) return
  const item = list.appendChild(document.createElement('li'))
  item.dataset.peer = id
  item.textContent = id
})
node.services.rendezvous.addEventListener('peer:remove', (evt) => {
  list.querySelector(`[data-peer="${evt.detail.peer.id.toString()}"]`)?.remove()
})
