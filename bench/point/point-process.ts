/**
 * A rendezvous point in a process of its own, for the load benchmarks: the
 * clients then cannot take its CPU, and its own CPU time per request can be
 * read apart from theirs, which a shared machine disturbs far less than
 * wall-clock time. It answers ping too, as the baseline.
 *
 *   node --import tsx bench/point/point-process.ts [store-url]
 *
 * Talks over the IPC channel only: sends `{ address }` once listening,
 * answers `'cpu'` with its `process.cpuUsage()`, and stops when the channel
 * closes.
 */
import '../../src/node/compat.ts'
import { openStore } from '../../src/server/index.ts'
import { pointNode } from '../lib/nodes.ts'

const send = (message: unknown): void => { process.send?.(message) }

const opened = await openStore(process.argv[2] ?? 'memory:')
const node = await pointNode({ store: opened.store })

process.on('message', (message) => {
  if (message === 'cpu') send({ cpu: process.cpuUsage() })
})
process.once('disconnect', () => {
  void (async () => {
    await node.stop()
    await opened.close()
    process.exit(0)
  })()
})
send({ address: node.getMultiaddrs()[0].toString() })
