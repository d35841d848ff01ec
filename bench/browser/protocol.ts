/** What the time-to-first-peer page and its Node driver exchange through `page.evaluate` */

export interface RunInit {
  /** The point's multiaddr, with /p2p/<id> */
  point: string
  namespace: string
  /** DISCOVER page size */
  limit: number
  /** The node's private key, protobuf in base64; a fresh one when absent */
  key?: string
}

/** Milliseconds from the node's `start()` */
export interface RunResult {
  /** To the first peer (SDK) or the raw response (floor) */
  ms: number
  /** `start()` resolved */
  started: number
  /** The first connection opened, when there was one by then */
  connected?: number
  /** Where the SDK's first peer came from */
  source?: 'cache' | 'network'
  /** The SDK's cache reads finished: the namespace's registrations (begun as libp2p makes the service), then our sequence number */
  seqRead?: number
  registrationsRead?: number
  responseBytes?: number
}

/** One cached registration, as plain JSON */
export interface CachedEntry {
  peerId: string
  /** Signed peer record envelope, base64 */
  record: string
  expiresAt: number
  /** The point's peer id */
  point: string
}

export interface BenchApi {
  floor(init: RunInit): Promise<RunResult>
  cold(init: RunInit): Promise<RunResult>
  warm(init: RunInit): Promise<RunResult>
  fill(init: RunInit, entries: CachedEntry[]): Promise<void>
  probe(init: RunInit): Promise<{ cacheRead: number, verify: number }>
}
