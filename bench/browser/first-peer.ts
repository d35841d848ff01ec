/**
 * Time to first peer in headless Chromium, against a local point over
 * WebSockets: the floor (a bare node, one raw DISCOVER), the SDK cold (empty
 * cache) and warm (100 peers cached in IndexedDB). Every run gets a fresh
 * browser context, so nothing but what a run puts there is cached; the three
 * kinds take turns within each round, so load from whatever else runs on the
 * machine falls on all of them alike.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { chromium } from 'playwright'
import { toString } from 'uint8arrays/to-string'
import { build, preview } from 'vite'
import { CHROMIUM_ARGS, chromiumPath } from '../../scripts/chromium.mjs'
import { realPeers } from '../lib/peers.ts'
import { retryOnce, round, summarize, withTimeout } from '../lib/stats.ts'
import { startBenchPoint } from './point.ts'
import type { BenchApi, CachedEntry, RunInit, RunResult } from './protocol.ts'
import type { Summary } from '../lib/stats.ts'
import type { Browser } from 'playwright'

const NAMESPACE = 'bench'
const PEERS = 100
const LIMIT = 100

type Kind = 'floor' | 'cold' | 'warm'

/** Medians of a run's marks, milliseconds from `start()`; absent when no run of the kind reached the mark */
export interface Phases {
  /** The SDK read the namespace's cached registrations from IndexedDB (opening it; begun as libp2p makes the service) */
  registrationsRead?: number
  /** The SDK read our sequence number, after the registrations */
  seqRead?: number
  /** `start()` resolved */
  started: number
  /** The first connection opened */
  connected?: number
}

export interface FirstPeerResult {
  runs: number
  peers: number
  browser: string
  /** Milliseconds from `start()` */
  floor: Summary
  cold: Summary
  warm: Summary
  /** Ratios of medians */
  coldVsFloor: number
  warmVsCold: number
  /** The same ratios taken round by round (the runs of a round are seconds apart, so they share the machine's load), summarized */
  pairedColdVsFloor: Summary
  pairedWarmVsCold: Summary
  /** How long libp2p's `start()` took, milliseconds: a cache must not make it wait */
  started: Record<Kind, Summary>
  /** `start()` with a warm cache over with an empty one: ratio of medians, and round by round */
  startWarmVsCold: number
  pairedStartWarmVsCold: Summary
  /** Medians, milliseconds from `start()`: where each kind's time went */
  phases: Record<Kind, Phases>
  /** Medians, milliseconds: a warm start's two main parts, timed alone in its page after its run */
  warmParts: { cacheRead: number, verify: number }
  /** Every warm run's first peer came from the cache, every cold one's from the network */
  sourcesAsExpected: boolean
}

/** Build the bench page in `root` with vite in production mode and serve the build */
export async function servePage (root = import.meta.dirname): Promise<{ url: string, close(): Promise<void> }> {
  const outDir = await mkdtemp(join(tmpdir(), 'rendezvous-bench-page-'))
  const shared = { configFile: false as const, root, base: './', logLevel: 'warn' as const, publicDir: false as const }
  await build({ ...shared, build: { outDir, emptyOutDir: true, target: 'es2022' } })
  const server = await preview({ ...shared, build: { outDir }, preview: { host: '127.0.0.1', port: 0 } })
  const url = server.resolvedUrls?.local[0]
  if (url == null) throw new Error('vite preview did not say where it listens')
  return {
    url,
    async close () {
      await server.close()
      await rm(outDir, { recursive: true, force: true })
    }
  }
}

declare const bench: BenchApi

function median (values: number[]): number {
  return round(summarize(values).median)
}

function phases (runs: RunResult[]): Phases {
  const of = (mark: keyof Phases): number | undefined => {
    const values = runs.map(r => r[mark]).filter(v => v != null)
    return values.length > 0 ? median(values) : undefined
  }
  return { seqRead: of('seqRead'), registrationsRead: of('registrationsRead'), started: median(runs.map(r => r.started)), connected: of('connected') }
}

/** Milliseconds one run may take, page load included; a run is a second or so */
const RUN_TIMEOUT = 30_000

/** One run in a fresh context: for warm, fill the cache through the SDK first, then reload */
async function runOnce (browser: Browser, url: string, kind: Kind, init: RunInit, cached: CachedEntry[]): Promise<{ result: RunResult, probe?: { cacheRead: number, verify: number } }> {
  const context = await browser.newContext()
  const logs: string[] = []
  const steps = async (): Promise<{ result: RunResult, probe?: { cacheRead: number, verify: number } }> => {
    const page = await context.newPage()
    page.on('pageerror', err => { logs.push(err.message) })
    await page.goto(url)
    await page.waitForFunction(() => typeof bench === 'object')
    if (kind !== 'warm') {
      return { result: await page.evaluate(async ([k, i]) => bench[k](i), [kind, init] as const) }
    }
    const key = toString(privateKeyToProtobuf(await generateKeyPair('Ed25519')), 'base64')
    const own = { ...init, key }
    await page.evaluate(async ([i, entries]) => { await bench.fill(i, entries) }, [own, cached] as const)
    await page.reload()
    await page.waitForFunction(() => typeof bench === 'object')
    const result = await page.evaluate(async (i) => bench.warm(i), own)
    const probe = await page.evaluate(async (i) => bench.probe(i), own)
    return { result, probe }
  }
  try {
    // closing the context (below) ends whatever a timed-out run still waits for
    return await withTimeout(steps(), RUN_TIMEOUT, `a ${kind} run`)
  } catch (err: any) {
    throw new Error(`${kind} run failed: ${err?.message ?? err}${logs.length > 0 ? `\npage errors:\n${logs.join('\n')}` : ''}`)
  } finally {
    await context.close()
  }
}

export async function timeToFirstPeer (runs = 25): Promise<FirstPeerResult> {
  const expiresAt = Date.now() + 2 * 3_600_000
  const peers = await realPeers(PEERS)
  const point = await startBenchPoint(NAMESPACE, peers, expiresAt)
  const cached: CachedEntry[] = peers.map(p => ({ peerId: p.peerId, record: toString(p.record, 'base64'), expiresAt, point: point.peerId }))
  const page = await servePage()
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS })
  const init: RunInit = { point: point.address, namespace: NAMESPACE, limit: LIMIT }
  const results: Record<Kind, RunResult[]> = { floor: [], cold: [], warm: [] }
  const probes: Array<{ cacheRead: number, verify: number }> = []
  try {
    const kinds: Kind[] = ['floor', 'cold', 'warm']
    // round 0 warms up the point, the browser's caches and the JITs; it is not counted
    for (let r = 0; r <= runs; r++) {
      // rotate which kind goes first, so none always runs right after another's teardown
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(r + k) % kinds.length]
        const { result, probe } = await retryOnce(async () => runOnce(browser, page.url, kind, init, cached))
        if (r === 0) continue
        results[kind].push(result)
        if (probe != null) probes.push(probe)
      }
    }
    const version = browser.version()
    const floor = summarize(results.floor.map(r => r.ms))
    const cold = summarize(results.cold.map(r => r.ms))
    const warm = summarize(results.warm.map(r => r.ms))
    const started = { floor: summarize(results.floor.map(r => r.started)), cold: summarize(results.cold.map(r => r.started)), warm: summarize(results.warm.map(r => r.started)) }
    return {
      runs,
      peers: PEERS,
      browser: version,
      floor,
      cold,
      warm,
      coldVsFloor: round(cold.median / floor.median),
      warmVsCold: round(warm.median / cold.median, 3),
      pairedColdVsFloor: summarize(results.cold.map((r, i) => r.ms / results.floor[i].ms)),
      pairedWarmVsCold: summarize(results.warm.map((r, i) => r.ms / results.cold[i].ms)),
      started,
      startWarmVsCold: round(started.warm.median / started.cold.median),
      pairedStartWarmVsCold: summarize(results.warm.map((r, i) => r.started / results.cold[i].started)),
      phases: { floor: phases(results.floor), cold: phases(results.cold), warm: phases(results.warm) },
      warmParts: { cacheRead: median(probes.map(p => p.cacheRead)), verify: median(probes.map(p => p.verify)) },
      sourcesAsExpected: results.warm.every(r => r.source === 'cache') && results.cold.every(r => r.source === 'network')
    }
  } finally {
    await browser.close()
    await page.close()
    await point.node.stop()
  }
}
