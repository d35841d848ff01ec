/**
 * py-libp2p's upstream example, `rendezvous.py --mode client`, run as its
 * docs run it, against our point run as ours run it (`libp2p-rendezvous
 * --mode server`), in both of the example's modes: single-shot, and with
 * `--refresh`. It registers, discovers, logs what it found, then sleeps; the
 * test stops it once it has logged its findings. One point serves both.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { killAll, startPoint } from '../cli/cli-process.ts'
import { createClient, stopNodes } from '../fixtures/nodes.ts'
import { describeWithPy, pyClient, pyExampleClient, stopPy } from './py-libp2p.ts'
import { isPlainTcp } from '../fixtures/addresses.ts'
import type { CliProcess } from '../cli/cli-process.ts'
import type { PyProcess } from './py-libp2p.ts'

/** What the example logged after `marker`, on its log line */
function logged (example: PyProcess, marker: string): string[] {
  return example.stderr.flatMap(line => {
    const at = line.indexOf(marker)
    return at < 0 ? [] : [line.slice(at + marker.length).trim()]
  })
}

describeWithPy('the upstream py-libp2p example client at our point', () => {
  let point: CliProcess
  let address: string

  beforeAll(async () => {
    // -v: the point's own log says which registrations are unsigned
    const started = await startPoint(['-v'])
    point = started.cli
    address = started.multiaddrs.find(isPlainTcp) ?? ''
  })

  afterAll(async () => {
    await stopPy()
    await stopNodes()
    await killAll()
  })

  for (const refresh of [false, true]) {
    const namespace = refresh ? 'example-refresh' : 'example'
    it(`given a spec peer and a py peer registered, then the example${refresh ? ' with --refresh' : ''} registers, finds itself and both, and is stored unsigned`, async () => {
      const alice = await createClient({}, 'tcp')
      await alice.client.register(multiaddr(address), namespace, { ttl: 600 })
      const py = await pyClient(address, ['-n', namespace, '--no-unregister'])
      expect(py.stdout.at(-1), py.transcript()).toBe('RESULT ok')
      const pyId = py.stdout.find(l => l.startsWith('SELF '))?.slice('SELF '.length)

      const example = pyExampleClient(address, namespace, refresh)
      // it logs its success right after the total
      await example.line(line => line.includes('Total peers found: '), 'stderr')
      await example.line(line => line.includes('Successfully discovered other peers'), 'stderr')
      // what it logged while it ran; stopping it may add a trace of its own
      const ran = example.stderr.join('\n')
      await example.stop()

      const self = logged(example, 'Client started with peer ID: ')[0]
      expect(logged(example, 'Enable refresh: '), example.transcript()).toEqual([refresh ? 'True' : 'False'])
      expect(logged(example, '✓ Registered with TTL ')).toEqual(['7200s'])
      expect(logged(example, 'Found self: ')).toEqual([self])
      expect(logged(example, 'Found peer: ').sort()).toEqual([alice.node.peerId.toString(), pyId].sort())
      expect(logged(example, 'Total peers found: ')).toEqual(['3'])
      // the example logs any exception as `Error: …` with a traceback
      expect(ran, example.transcript()).not.toMatch(/Traceback|rendezvous_example - ERROR/)
      // the point says, in its own log, that the example's addresses are unsigned
      expect(point.stderr).toContain(`registered ${self} in ${namespace} with an unsigned PeerInfo`)
    })
  }
})
