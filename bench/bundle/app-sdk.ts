// The same app with the SDK, used as its README shows: the discovery service beside identify
import { createLibp2p } from 'libp2p'
import { rendezvousDiscovery } from '../../src/index.ts'
import { minimalNode } from '../browser/minimal-node.ts'

const base = minimalNode()
const node = await createLibp2p({
  ...base,
  services: {
    ...base.services,
    rendezvous: rendezvousDiscovery({
      points: ['/dns4/rdv.example.com/tcp/443/wss/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'],
      namespaces: ['my-app']
    })
  }
})
;(globalThis as { node?: unknown }).node = node
