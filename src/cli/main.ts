/** `libp2p-rendezvous`: `--mode server` or `--mode client` */
// first: Node 20 shims that libp2p needs while its modules load
import '../node/compat.ts'
import { PROGRAM } from './args.ts'
import { main } from './cli.ts'

await main({ name: PROGRAM })
