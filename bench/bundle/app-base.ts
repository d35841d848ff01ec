// The minimal browser app without the SDK: a libp2p node with WebSockets, noise, yamux and identify
import { createLibp2p } from 'libp2p'
import { minimalNode } from '../browser/minimal-node.ts'

const node = await createLibp2p(minimalNode())
// hand the node to the page, so that nothing of it is tree-shaken away
;(globalThis as { node?: unknown }).node = node
