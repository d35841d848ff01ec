/** `libp2p-rendezvous-server`: the server mode alone, like js-libp2p's old program of that name */
// first: Node 20 shims that libp2p needs while its modules load
import '../node/compat.ts'
import { main } from './cli.ts'

await main({ name: 'libp2p-rendezvous-server', mode: 'server' })
