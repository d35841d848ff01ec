import { AbortError } from '@libp2p/interface'
import { DEFAULT_REQUEST_TIMEOUT, DEFAULT_TTL, MAX_RESPONSE_SIZE, RENDEZVOUS_PROTOCOL } from '../constants.ts'
import { NoResponseError } from '../errors.ts'
import { Message, discoverRequest, isPeerInfoRefusal, parseDiscoverResponse, parseRegisterResponse, registerRequest, unregisterRequest } from '../protocol/messages.ts'
import { rendezvousStream } from '../protocol/stream.ts'
import { clampTtl, verifyPage } from './verify.ts'
import type { DiscoverOptions, DiscoverResult, PeerInfoClient, RegisterSender, Registration, RendezvousClientComponents, RequestsInit } from './api.ts'
import type { AbortOptions, DialTarget, Logger, Stream } from '@libp2p/interface'

export type RequestsComponents = Pick<RendezvousClientComponents, 'peerId' | 'connectionManager' | 'logger'>

export interface PageOptions extends DiscoverOptions {
  /** Called with each registration as soon as its record verifies (see `verifyPage`) */
  onRegistration?(registration: Registration): void
}

/** A signal that has already fired fails the call with `AbortError` before anything is sent */
export function checkSignal (signal?: AbortSignal): void {
  if (signal?.aborted === true) throw new AbortError()
}

/**
 * The client's side of the protocol, and the one place that sends requests
 * and reads responses: each request opens a stream, sends one message, reads
 * at most one answer and closes it, which every implementation understands
 * (rust and nim serve one request per stream). Answers are decoded here and
 * every record in them verified before anything above sees it. Our own record
 * comes from the caller, which owns it. With `uncertifiedPeers`, this is also
 * where each point's schema is remembered (see `PeerInfoClient`), so the
 * client's calls (the command line's `--refresh`) and the discovery
 * service's refreshes and retries all send what the point reads.
 */
export class Requests {
  readonly #components: RequestsComponents
  readonly #log: Logger
  readonly #protocol: string | string[]
  readonly #timeout: number
  readonly #maxMessageSize: number
  readonly #legacyUnregisterId: boolean
  readonly #peerInfo?: PeerInfoClient

  constructor (components: RequestsComponents, init: RequestsInit = {}) {
    this.#components = components
    this.#log = components.logger.forComponent('libp2p:rendezvous:client')
    this.#protocol = init.protocol ?? RENDEZVOUS_PROTOCOL
    this.#timeout = init.timeout ?? DEFAULT_REQUEST_TIMEOUT
    this.#maxMessageSize = init.maxMessageSize ?? MAX_RESPONSE_SIZE
    this.#legacyUnregisterId = init.legacyUnregisterId ?? false
    this.#peerInfo = init.uncertifiedPeers?.client(this.#log)
  }

  /** REGISTER `record` in `namespace`; resolves with the TTL granted, in seconds */
  async register (point: DialTarget, namespace: string, record: Uint8Array, options: { ttl?: number, signal?: AbortSignal } = {}): Promise<number> {
    const signal = this.#signal(options)
    const send: RegisterSender = async (message, schema) => parseRegisterResponse(await this.#request(point, message, signal), schema)
    const granted = await (this.#peerInfo?.register(point, namespace, record, options.ttl, send) ?? send(registerRequest(namespace, record, options.ttl)).catch(err => {
      // py's refusal names no option: this line is where a user learns the way to such points
      if (isPeerInfoRefusal(err)) this.#log.error('%s refused our record as points of the pre-2020 schema (py-libp2p) do; uncertifiedPeers: peerInfoSchema() registers there', point)
      throw err
    })) ?? options.ttl ?? DEFAULT_TTL
    this.#log('registered in %s at %s for %ds', namespace, point, granted)
    return clampTtl(granted)
  }

  /** UNREGISTER, then wait until the point closed its end (see `RendezvousClient.unregister`) */
  async unregister (point: DialTarget, namespace: string, options: AbortOptions = {}): Promise<void> {
    const legacyId = this.#legacyUnregisterId || this.#peerInfo?.speaks(point) === true ? this.#components.peerId.toMultihash().bytes : undefined
    await this.#request(point, unregisterRequest(namespace, legacyId), this.#signal(options), false)
    this.#log('unregistered from %s at %s', namespace, point)
  }

  /** One DISCOVER page, every record verified; `onRegistration` hears of each as soon as it passes */
  async discover (point: DialTarget, namespace?: string, options: PageOptions = {}): Promise<DiscoverResult> {
    const signal = this.#signal(options)
    const response = await this.#request(point, discoverRequest(namespace, options.limit, options.cookie), signal)
    const page = parseDiscoverResponse(response, namespace)
    // a point that sends more than asked for gets no more of our time (each record costs a signature check) or memory
    const asked = options.limit != null && options.limit >= 1 ? Math.floor(options.limit) : Infinity
    const excess = Math.max(page.registrations.length - asked, 0)
    if (excess > 0) this.#log.error('%s returned %d registrations when asked for %d; ignoring the rest', point, page.registrations.length, asked)
    const entries = page.registrations.slice(0, page.registrations.length - excess)
    const wanted = entries.filter(entry => namespace == null || namespace === '' || entry.namespace === namespace)
    if (wanted.length < entries.length) this.#log.error('%s returned registrations of other namespaces than %s', point, namespace)

    // PeerInfos (with `uncertifiedPeers`) come out of it unsigned; without it they fail verification
    const verified = await (this.#peerInfo?.verifyPage ?? verifyPage)(wanted, {
      signal,
      onRegistration: options.onRegistration,
      onInvalid: err => { this.#log.error('dropped a registration from %s - %e', point, err) }
    })
    return {
      registrations: verified.registrations,
      cookie: page.cookie,
      dropped: page.malformed + excess + entries.length - wanted.length + verified.dropped
    }
  }

  #signal (options: AbortOptions): AbortSignal {
    checkSignal(options.signal)
    return options.signal ?? AbortSignal.timeout(this.#timeout)
  }

  /** One request on a fresh stream; the response when `expectResponse`, otherwise undefined */
  async #request (point: DialTarget, message: Message, signal: AbortSignal, expectResponse: false): Promise<undefined>
  async #request (point: DialTarget, message: Message, signal: AbortSignal, expectResponse?: true): Promise<Message>
  async #request (point: DialTarget, message: Message, signal: AbortSignal, expectResponse = true): Promise<Message | undefined> {
    const options = { signal }
    const stream = await this.#components.connectionManager.openStream(point, this.#protocol, options)
    try {
      const messages = rendezvousStream(stream, this.#maxMessageSize)
      await messages.write(message, options)
      let response: Message | undefined
      if (expectResponse) {
        response = await messages.read(options).catch(err => {
          throw err?.name === 'UnexpectedEOFError' ? new NoResponseError() : err
        })
      }
      await stream.close(options)
      if (!expectResponse) await remoteClosed(stream, signal)
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
