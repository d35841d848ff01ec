/**
 * Load: 200 client nodes, each a real libp2p node over TCP with the
 * low-level client, against one point, for a fixed number of rounds. Not one
 * request may fail, every client must discover every other one (following
 * cookies across pages and rounds), and the latencies are reported, never
 * asserted: this machine is shared, and the point is to see the numbers.
 *
 * Round 1: everyone registers, then everyone pages through the namespace from
 * scratch. Rounds 2 and 3: a quarter of the clients register again, then
 * everyone asks with the cookie its last round ended with and must get
 * exactly the ones that registered again, all of them, none twice. Only the
 * first round hands every client every record: 200 x 200 signature checks
 * are most of what this test costs.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createClient, createPoint, stopNodes } from '../../fixtures/nodes.ts'
import { inBatches, percentile, report, watchUnhandled } from './support.ts'
import type { ClientNode } from '../../fixtures/nodes.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

const CLIENTS = 200
const ROUNDS = 3
const NAMESPACE = 'load'
/** Registrations per DISCOVER page: small enough that every client follows a cookie through several pages */
const PAGE = 64
/** Clients being created or dialling at once: libp2p nodes are cheap to run and costly to start */
const STARTING_AT_ONCE = 10
/** Clients with a request in flight at once */
const BUSY_AT_ONCE = 25

const unhandled = watchUnhandled()
afterAll(() => {
  unhandled.stop()
  expect(unhandled.seen).toEqual([])
})

interface LoadClient extends ClientNode {
  id: string
  cookie?: Uint8Array
}

class Tally {
  readonly latencies = { register: [] as number[], discover: [] as number[] }
  readonly failures: string[] = []

  /** Run one request, timing it; a failure is recorded, never thrown, so that every failure is counted */
  async time<T> (kind: 'register' | 'discover', request: () => Promise<T>): Promise<T | undefined> {
    const start = performance.now()
    try {
      const result = await request()
      this.latencies[kind].push(performance.now() - start)
      return result
    } catch (err: any) {
      this.failures.push(`${kind}: ${err?.name}: ${err?.message}`)
      return undefined
    }
  }

  summary (kind: 'register' | 'discover'): Record<string, number> {
    const sorted = [...this.latencies[kind]].sort((a, b) => a - b)
    return {
      requests: sorted.length,
      p50ms: Math.round(percentile(sorted, 0.5)),
      p99ms: Math.round(percentile(sorted, 0.99)),
      maxms: Math.round(sorted.at(-1) ?? NaN)
    }
  }
}

/** Page through the namespace from the client's cookie on; the peers found, in order */
async function discoverFrom (client: LoadClient, point: Multiaddr, tally: Tally): Promise<string[] | undefined> {
  const found: string[] = []
  for (let pages = 0; pages <= CLIENTS; pages++) {
    const page = await tally.time('discover', async () => client.client.discover(point, NAMESPACE, { limit: PAGE, cookie: client.cookie }))
    if (page == null) return undefined
    if (page.dropped > 0) tally.failures.push(`discover: ${page.dropped} registrations failed verification`)
    found.push(...page.registrations.map(r => r.peerId.toString()))
    if (page.cookie != null) client.cookie = page.cookie
    if (page.registrations.length === 0) return found
  }
  tally.failures.push('discover: the point never ran out of pages')
  return undefined
}

describe('load', () => {
  afterEach(stopNodes)

  it(`${CLIENTS} client nodes register and discover against one point for ${ROUNDS} rounds: no request fails, everyone finds everyone`, async () => {
    const { address, server } = await createPoint({}, 'tcp')
    const clients: LoadClient[] = await inBatches(Array.from({ length: CLIENTS }), STARTING_AT_ONCE, async () => {
      const node = await createClient({}, 'tcp')
      await node.node.dial(address)
      return { ...node, id: node.node.peerId.toString() }
    })
    const everyone = clients.map(c => c.id).sort()
    const tally = new Tally()
    const problems: string[] = []
    const rounds: Array<Record<string, number>> = []

    for (let round = 1; round <= ROUNDS; round++) {
      const registering = round === 1 ? clients : clients.filter((_, i) => i % 4 === (round - 2) % 4)
      await inBatches(registering, BUSY_AT_ONCE, async (client) => tally.time('register', async () => client.client.register(address, NAMESPACE, { ttl: 600 })))

      const expected = registering.map(c => c.id).sort()
      let found = 0
      await inBatches(clients, BUSY_AT_ONCE, async (client) => {
        const seen = await discoverFrom(client, address, tally)
        if (seen == null) return
        found += seen.length
        // from scratch the whole namespace; from a cookie exactly those registered since, each once
        const sorted = [...seen].sort()
        if (JSON.stringify(sorted) !== JSON.stringify(expected)) {
          problems.push(`round ${round}: ${client.id} found ${seen.length} (${new Set(seen).size} distinct), expected ${expected.length}`)
        }
      })
      rounds.push({ round, registered: registering.length, discovered: found })
      // nobody is registered twice, whatever was refreshed
      expect(await server.getNamespaceStats()).toEqual(new Map([[NAMESPACE, CLIENTS]]))
    }

    report('load', {
      clients: CLIENTS,
      rounds,
      everyoneFoundEveryone: problems.length === 0 && everyone.length === CLIENTS,
      failedRequests: tally.failures.length,
      register: tally.summary('register'),
      discover: tally.summary('discover')
    })
    expect(tally.failures).toEqual([])
    expect(problems).toEqual([])
    expect(tally.latencies.register).toHaveLength(CLIENTS + (ROUNDS - 1) * CLIENTS / 4)
  }, 600_000)
})
