/**
 * DISCOVER (limit 100) against namespace size: 1k, 10k and 100k
 * registrations in one namespace, each at its own point, all asked by one
 * client over real connections in turn, so the sizes share whatever load the
 * machine has. Two pages each: the first, and one resumed from a cookie in
 * the middle of the namespace. Timed twice: end to end (a raw request, the
 * records not verified, so the point is what is measured), and the point's
 * handler alone on the same store. A page should cost the same at any size.
 */
import { discoverRequest, parseDiscoverResponse } from '../../src/protocol/messages.ts'
import { handleRequest } from '../../src/server/handle-request.ts'
import { memoryStore } from '../../src/server/index.ts'
import { clientNode, pointNode } from '../lib/nodes.ts'
import { fillNamespace } from '../lib/peers.ts'
import { COOKIE_SECRET, requestContext } from '../lib/point-context.ts'
import { rawRequest } from '../lib/raw-request.ts'
import { interleaved, round, summarize } from '../lib/stats.ts'
import type { Summary } from '../lib/stats.ts'
import type { ClientNode, PointNode } from '../lib/nodes.ts'
import type { RequestContext } from '../../src/server/handle-request.ts'

const NAMESPACE = 'scale'
const LIMIT = 100

export interface ScaleRow {
  registrations: number
  /** Milliseconds, end to end */
  firstPage: Summary
  cookiePage: Summary
  /** Microseconds, the point's handler alone */
  handlerFirstPage: Summary
  handlerCookiePage: Summary
}

export interface ScaleResult {
  samples: number
  rows: ScaleRow[]
  /** p50 at the largest size over p50 at the smallest; the target is at most 1.5 */
  firstPageRatio: number
  cookiePageRatio: number
  handlerFirstPageRatio: number
  handlerCookiePageRatio: number
}

interface Size {
  registrations: number
  point: PointNode
  context: RequestContext
  /** Resumes after half the namespace */
  cookie: Uint8Array
}

async function prepare (registrations: number): Promise<Size> {
  const store = memoryStore()
  await fillNamespace(store, NAMESPACE, registrations)
  const point = await pointNode({ store, maxRegistrations: registrations + 1, cookieSecret: COOKIE_SECRET })
  const context = await requestContext(store)
  // the cursor halfway through, sealed the way the point seals the cookies it hands out
  const half = await store.discover(NAMESPACE, 0n, registrations / 2, Date.now())
  return { registrations, point, context, cookie: await context.cookies.seal(NAMESPACE, half.cursor) }
}

async function discoverAt (client: ClientNode, size: Size, cookie?: Uint8Array): Promise<void> {
  const page = parseDiscoverResponse(await rawRequest(client, size.point.getMultiaddrs()[0], discoverRequest(NAMESPACE, LIMIT, cookie)))
  if (page.registrations.length !== LIMIT) throw new Error(`expected a full page at ${size.registrations}, got ${page.registrations.length}`)
}

async function handlerAt (size: Size, cookie?: Uint8Array): Promise<void> {
  await handleRequest({ type: 'DISCOVER', namespace: NAMESPACE, limit: LIMIT, cookie }, size.context)
}

export async function discoverScale (counts = [1_000, 10_000, 100_000], samples = 80): Promise<ScaleResult> {
  const sizes: Size[] = []
  const client = await clientNode()
  try {
    for (const count of counts) sizes.push(await prepare(count))
    await Promise.all(sizes.map(async size => client.dial(size.point.getMultiaddrs()[0])))

    const network = await interleaved(samples + 1, Object.fromEntries(sizes.flatMap(size => [
      [`first ${size.registrations}`, async () => discoverAt(client, size)],
      [`cookie ${size.registrations}`, async () => discoverAt(client, size, size.cookie)]
    ])))
    // the handler is fast enough for many more samples in the same time
    const handler = await interleaved(samples * 10, Object.fromEntries(sizes.flatMap(size => [
      [`first ${size.registrations}`, async () => handlerAt(size)],
      [`cookie ${size.registrations}`, async () => handlerAt(size, size.cookie)]
    ])))

    // the first of each network sample set warmed up the connection and the JIT
    const ms = (key: string): Summary => summarize(network[key].slice(1))
    const us = (key: string): Summary => summarize(handler[key].map(v => v * 1000))
    const rows = sizes.map(size => ({
      registrations: size.registrations,
      firstPage: ms(`first ${size.registrations}`),
      cookiePage: ms(`cookie ${size.registrations}`),
      handlerFirstPage: us(`first ${size.registrations}`),
      handlerCookiePage: us(`cookie ${size.registrations}`)
    }))
    const ratio = (key: keyof Omit<ScaleRow, 'registrations'>): number => round(rows[rows.length - 1][key].median / rows[0][key].median)
    return {
      samples,
      rows,
      firstPageRatio: ratio('firstPage'),
      cookiePageRatio: ratio('cookiePage'),
      handlerFirstPageRatio: ratio('handlerFirstPage'),
      handlerCookiePageRatio: ratio('handlerCookiePage')
    }
  } finally {
    await client.stop()
    await Promise.all(sizes.map(async size => size.point.stop()))
  }
}
