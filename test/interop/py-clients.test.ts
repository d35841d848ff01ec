/**
 * The real py-libp2p's client against our point: py's `RendezvousDiscovery`
 * (through the kit's `run-client.sh`) registers, discovers and unregisters
 * at a point built as the command line builds it, beside our own spec
 * clients. One point serves the whole file, each test in a namespace of its
 * own: py processes start slowly, the point does not need to.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { createNode } from '../../src/cli/node.ts'
import { rendezvousServer } from '../../src/server/index.ts'
import { MemoryRegistrationStore } from '../../src/server/store/memory-store.ts'
import { readRecordField } from '../../src/protocol/peer-info.ts'
import { UNANSWERED } from '../fixtures/harness.ts'
import { createClient, stopNodes } from '../fixtures/nodes.ts'
import { describeWithPy, discovered, pyClient, stopPy } from './py-libp2p.ts'
import { isPlainTcp } from '../fixtures/addresses.ts'
import type { PyProcess } from './py-libp2p.ts'
import type { Libp2p } from '@libp2p/interface'

/** The id a kit client printed on its `SELF` line */
function self (py: PyProcess): string {
  return py.stdout.find(l => l.startsWith('SELF '))?.slice('SELF '.length) ?? ''
}

function ok (py: PyProcess): void {
  expect(py.stdout.at(-1), py.transcript()).toBe('RESULT ok')
}

describeWithPy('py-libp2p clients at our point', () => {
  let point: Libp2p
  let store: MemoryRegistrationStore
  let address: string

  beforeAll(async () => {
    store = new MemoryRegistrationStore()
    point = await createNode({ host: '127.0.0.1', port: 0, wsPort: 0 }, { rendezvous: rendezvousServer({ store }) })
    address = point.getMultiaddrs().map(String).find(isPlainTcp) ?? ''
  })

  afterAll(async () => {
    await stopPy()
    await stopNodes()
    await point?.stop()
  })

  async function stored (namespace: string): Promise<Array<{ peer: string, unsigned: boolean, addresses?: string[] }>> {
    return (await store.discover(namespace, 0n, 100, Date.now())).registrations.map(r => {
      const field = r.unsigned === true ? readRecordField(r.signedPeerRecord) : undefined
      return { peer: r.peerId, unsigned: r.unsigned === true, ...(field?.kind === 'peer-info' ? { addresses: field.peer.multiaddrs.map(String) } : {}) }
    })
  }

  it('given a spec client and py clients, then py registers (stored unsigned, as given), py clients find each other and the spec client, and the spec client never sees them', async () => {
    const alice = await createClient({}, 'tcp')
    await alice.client.register(point.getMultiaddrs()[0], 'meet', { ttl: 600 })
    const aliceAddresses = (await alice.client.discover(point.getMultiaddrs()[0], 'meet')).registrations[0].multiaddrs.map(String)

    const first = await pyClient(address, ['-n', 'meet', '--no-unregister'])
    ok(first)
    expect(first.stdout).toContain('REGISTERED ns=meet ttl=7200')
    const firstId = self(first)
    const [registration] = (await stored('meet')).filter(r => r.peer === firstId)
    expect(registration.unsigned).toBe(true)
    // py advertises its listen address with its /p2p suffix; the point keeps it as given
    expect(registration.addresses?.every(a => a.endsWith(`/p2p/${firstId}`))).toBe(true)
    expect(discovered(first)).toEqual(new Map([[alice.node.peerId.toString(), aliceAddresses], [firstId, registration.addresses]]))

    // a second py client that only discovers is known by the agent it announces
    const second = await pyClient(address, ['-n', 'meet', '--discover-only'])
    ok(second)
    expect([...discovered(second).keys()].sort()).toEqual([alice.node.peerId.toString(), firstId].sort())

    const seen = await alice.client.discover(point.getMultiaddrs()[0], 'meet')
    expect(seen.registrations.map(r => r.peerId.toString())).toEqual([alice.node.peerId.toString()])
    expect(seen.dropped).toBe(0)
  })

  it('given a py client that registers, discovers and unregisters, then its registration is gone afterwards', async () => {
    const py = await pyClient(address, ['-n', 'leave'])
    ok(py)
    expect(py.stdout).toEqual(expect.arrayContaining(['REGISTERED ns=leave ttl=7200', 'UNREGISTERED ns=leave']))
    expect([...discovered(py).keys()]).toEqual([self(py)])
    // nothing answers an UNREGISTER, so nothing says when the point has handled it
    await vi.waitFor(async () => { expect(await stored('leave')).toEqual([]) }, UNANSWERED)
  })

  it('given a namespace our point refuses, then py gets the named error it knows, with our reason', async () => {
    // py itself allows 256 characters; the spec's recommendation, and our limit, is 255 bytes
    const py = await pyClient(address, ['-n', 'n'.repeat(256)])
    expect(await py.exited).toBe(1)
    expect(py.stdout.at(-1)).toBe('RESULT error InvalidNamespaceError: Rendezvous error 100: namespace is 256 bytes, the limit is 255')
  })
})
