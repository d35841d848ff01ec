import { DEFAULT_REQUEST_TIMEOUT, DEFAULT_TTL, MAX_RESPONSE_SIZE, MAX_TTL, RENDEZVOUS_PROTOCOL } from '../constants.ts'
import { NoResponseError } from '../errors.ts'
import { discoverRequest, parseDiscoverResponse, parseRegisterResponse, registerRequest, unregisterRequest } from '../protocol/messages.ts'
import { openPeerRecord } from '../protocol/peer-record.ts'
import { rendezvousStream } from '../protocol/stream.ts'
import { OwnRecord } from './own-record.ts'
import { equals } from 'uint8arrays/equals'
import type { OwnRecordInit } from './own-record.ts'
import type { Message } from '../protocol/messages.ts'
import type { AbortOptions, ComponentLogger, DialTarget, Logger, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import type { AddressManager, ConnectionManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface RendezvousClientComponents {
  peerId: PeerId
  privateKey: PrivateKey
  addressManager: AddressManager
  connectionManager: ConnectionManager
  logger: ComponentLogger
}

export interface RendezvousClientInit extends Omit<OwnRecordInit, 'now'> {
  /** Protocol id(s) to offer, best first. @default '/rendezvous/1.0.0' */
  protocol?: string | string[]
  /** Milliseconds one request may take when the caller passes no signal. @default 10_000 */
  timeout?: number
  /** Largest response frame we read, in bytes. @default 4 MiB */
  maxMessageSize?: number
  /**
   * Also send the `id` field the spec removed from UNREGISTER; py and early js
   * points ignore an UNREGISTER without it. @default false
   */
  legacyUnregisterId?: boolean
  /** Milliseconds since the epoch. @default Date.now */
  now?(): number
}

/** A verified registration from a DISCOVER response */
export interface Registration {
  namespace: string
  peerId: PeerId
  /** From the signed record, so certified by the peer itself */
  multiaddrs: Multiaddr[]
  /** Seconds the registration has left, as the point said (clamped to 72 h) */
  ttl: number
  /** The record's sequence number; only comparable between records of one peer */
  seq: bigint
  /** The envelope exactly as the point returned it */
  signedPeerRecord: Uint8Array
}

export interface RegisterOptions extends AbortOptions {
  /** Seconds, as on the wire; when absent the point applies its default (2 h by the spec) */
  ttl?: number
}

export interface DiscoverOptions extends AbortOptions {
  /** Most registrations to return; the point may cap it further */
  limit?: number
  /** From an earlier response for the same point and namespace */
  cookie?: Uint8Array
}

export interface DiscoverResult {
  registrations: Registration[]
  /** Ask with this next time to get only registrations this one did not hold */
  cookie?: Uint8Array
  /** Entries the point returned that failed verification and were left out */
  dropped: number
}

export interface DiscoverAllOptions extends AbortOptions {
  /** Registrations to ask for per request. @default 1000 */
  pageSize?: number
  /** Start after what an earlier cookie has seen */
  cookie?: Uint8Array
  /**
   * Most pages (requests) to fetch. A point that always answers with a full
   * page and a fresh cookie would otherwise keep the walk going for ever;
   * when the cap is reached the walk ends and returns the cookie to go on from.
   * @default 1000
   */
  maxPages?: number
}

/** Pages `discoverAll` fetches at most: with 1000 per page, ten times what one of our points holds by default */
const DEFAULT_MAX_PAGES = 1000

/**
 * Talks to rendezvous points one request at a time: each call opens a stream,
 * sends one request, reads at most one response and closes it, which every
 * implementation understands (rust and nim serve one request per stream).
 */
export class RendezvousClient {
  private readonly components: RendezvousClientComponents
  private readonly log: Logger
  private readonly protocol: string | string[]
  private readonly timeout: number
  private readonly maxMessageSize: number
  private readonly legacyUnregisterId: boolean
  private readonly now: () => number
  readonly ownRecord: OwnRecord

  constructor (components: RendezvousClientComponents, init: RendezvousClientInit = {}) {
    this.components = components
    this.log = components.logger.forComponent('libp2p:rendezvous:client')
    this.protocol = init.protocol ?? RENDEZVOUS_PROTOCOL
    this.timeout = init.timeout ?? DEFAULT_REQUEST_TIMEOUT
    this.maxMessageSize = init.maxMessageSize ?? MAX_RESPONSE_SIZE
    this.legacyUnregisterId = init.legacyUnregisterId ?? false
    this.now = init.now ?? Date.now
    this.ownRecord = new OwnRecord(components, { ...init, now: this.now })
  }

  /** Register our signed record in `namespace` at `point`; resolves with the TTL the point granted, in seconds */
  async register (point: DialTarget, namespace: string, options: RegisterOptions = {}): Promise<number> {
    const signal = this.signal(options)
    const record = await this.ownRecord.seal({ signal })
    const response = await this.request(point, registerRequest(namespace, record, options.ttl), { signal })
    const granted = parseRegisterResponse(response) ?? options.ttl ?? DEFAULT_TTL
    this.log('registered in %s at %s for %ds', namespace, point, granted)
    return clampTtl(granted)
  }

  /**
   * Remove our registration in `namespace` at `point`. The spec gives no answer
   * to wait for, so this waits (for as long as the signal allows) until the
   * point has closed its end of the stream, which it does only after reading
   * everything we sent: a node that stops right after this resolves cannot
   * take the UNREGISTER down with its connection while it sits unread.
   */
  async unregister (point: DialTarget, namespace: string, options: AbortOptions = {}): Promise<void> {
    const legacyId = this.legacyUnregisterId ? this.components.peerId.toMultihash().bytes : undefined
    await this.request(point, unregisterRequest(namespace, legacyId), { signal: this.signal(options) }, false)
    this.log('unregistered from %s at %s', namespace, point)
  }

  /** One DISCOVER: verified registrations in `namespace` (all namespaces when absent), and the next cookie */
  async discover (point: DialTarget, namespace?: string, options: DiscoverOptions = {}): Promise<DiscoverResult> {
    const signal = this.signal(options)
    const response = await this.request(point, discoverRequest(namespace, options.limit, options.cookie), { signal })
    const page = parseDiscoverResponse(response, namespace)
    // a point that sends more than asked for gets no more of our time (each record costs a signature check) or memory
    const asked = options.limit != null && options.limit >= 1 ? Math.floor(options.limit) : Infinity
    const excess = Math.max(page.registrations.length - asked, 0)
    if (excess > 0) {
      this.log.error('%s returned %d registrations when asked for %d; ignoring the rest', point, page.registrations.length, asked)
    }

    const verified = await Promise.all(page.registrations.slice(0, page.registrations.length - excess).map(async (entry) => {
      if (namespace != null && namespace !== '' && entry.namespace !== namespace) {
        this.log.error('%s returned a registration for %s when asked for %s', point, entry.namespace, namespace)
        return undefined
      }
      try {
        const record = await openPeerRecord(entry.signedPeerRecord, { signal })
        return {
          namespace: entry.namespace,
          peerId: record.peerId,
          multiaddrs: record.multiaddrs,
          ttl: clampTtl(entry.ttl ?? DEFAULT_TTL),
          seq: record.seq,
          signedPeerRecord: entry.signedPeerRecord
        }
      } catch (err) {
        this.log.error('dropped a registration from %s - %e', point, err)
        return undefined
      }
    }))
    const registrations = verified.filter(r => r != null)
    return { registrations, cookie: page.cookie, dropped: page.malformed + excess + verified.length - registrations.length }
  }

  /**
   * Every registration in `namespace`, page by page, following cookies until
   * the point has nothing more or `maxPages` pages were fetched. Each page is
   * one request with its own timeout unless a signal is given. Returns the
   * last cookie.
   */
  async * discoverAll (point: DialTarget, namespace?: string, options: DiscoverAllOptions = {}): AsyncGenerator<Registration, Uint8Array | undefined> {
    let cookie = options.cookie
    const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES
    for (let pages = 0; pages < maxPages; pages++) {
      const page = await this.discover(point, namespace, { limit: options.pageSize, cookie, signal: options.signal })
      yield * page.registrations
      const received = page.registrations.length + page.dropped
      // points that cap the page below our size still send full pages, so only an empty page or a missing/unchanged cookie ends it
      if (received === 0 || page.cookie == null || (cookie != null && equals(page.cookie, cookie))) {
        return page.cookie ?? cookie
      }
      cookie = page.cookie
    }
    this.log('stopped walking %s at %s after %d pages', namespace, point, maxPages)
    return cookie
  }

  private signal (options: AbortOptions): AbortSignal {
    return options.signal ?? AbortSignal.timeout(this.timeout)
  }

  /** One request on a fresh stream; the response when `expectResponse`, otherwise undefined */
  private async request (point: DialTarget, message: Message, options: { signal: AbortSignal }, expectResponse: false): Promise<undefined>
  private async request (point: DialTarget, message: Message, options: { signal: AbortSignal }, expectResponse?: true): Promise<Message>
  private async request (point: DialTarget, message: Message, options: { signal: AbortSignal }, expectResponse = true): Promise<Message | undefined> {
    const stream = await this.components.connectionManager.openStream(point, this.protocol, options)
    try {
      const messages = rendezvousStream(stream, this.maxMessageSize)
      await messages.write(message, options)
      let response: Message | undefined
      if (expectResponse) {
        response = await messages.read(options).catch(err => {
          throw err?.name === 'UnexpectedEOFError' ? new NoResponseError() : err
        })
      }
      await stream.close(options)
      if (!expectResponse) await remoteClosed(stream, options.signal)
      return response
    } catch (err: any) {
      stream.abort(err)
      throw err
    }
  }
}

/**
 * Resolves once the remote end has closed its side of `stream` (or the stream
 * is gone), or when `signal` aborts: then the stream is reset, because a point
 * that has not closed by then is not going to, and the request was sent anyway.
 */
async function remoteClosed (stream: Stream, signal: AbortSignal): Promise<void> {
  if (stream.remoteWriteStatus === 'closed' || stream.status !== 'open') return
  await new Promise<void>(resolve => {
    const done = (): void => {
      stream.removeEventListener('remoteCloseWrite', done)
      stream.removeEventListener('close', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    stream.addEventListener('remoteCloseWrite', done)
    stream.addEventListener('close', done)
    signal.addEventListener('abort', done)
    if (signal.aborted) done()
  })
  if (signal.aborted && stream.status === 'open') stream.abort(signal.reason)
}

/** Points have been seen to return absurd TTLs (nim's wrap-around, rust's u64::MAX) */
function clampTtl (ttl: number): number {
  return Math.min(Math.max(ttl, 0), MAX_TTL)
}
