import { DEFAULT_WALK_PAGES } from '../constants.ts'
import { walkNamespace } from './namespace-walk.ts'
import { OwnRecord } from './own-record.ts'
import { checkSignal, Requests } from './requests.ts'
import type { DiscoverAllOptions, DiscoverOptions, DiscoverResult, RegisterOptions, Registration, RendezvousClient, RendezvousClientComponents, RendezvousClientInit } from './api.ts'
import type { AbortOptions, DialTarget } from '@libp2p/interface'

/**
 * The low-level client: `Requests` to the point each call names, with our
 * own record, which this client owns and seals once per change of address.
 */
export class RendezvousClientService implements RendezvousClient {
  readonly [Symbol.toStringTag] = 'libp2p-rendezvous:client'
  readonly #requests: Requests
  /** Internal: tests compare what points return with what we sealed */
  readonly ownRecord: OwnRecord

  constructor (components: RendezvousClientComponents, init: RendezvousClientInit = {}) {
    this.#requests = new Requests(components, init)
    this.ownRecord = new OwnRecord(components, init)
  }

  async register (point: DialTarget, namespace: string, options: RegisterOptions = {}): Promise<number> {
    checkSignal(options.signal)
    const record = await this.ownRecord.seal(options)
    return this.#requests.register(point, namespace, record, options)
  }

  async unregister (point: DialTarget, namespace: string, options: AbortOptions = {}): Promise<void> {
    await this.#requests.unregister(point, namespace, options)
  }

  async discover (point: DialTarget, namespace?: string, options: DiscoverOptions = {}): Promise<DiscoverResult> {
    return this.#requests.discover(point, namespace, options)
  }

  async * discoverAll (point: DialTarget, namespace?: string, options: DiscoverAllOptions = {}): AsyncGenerator<Registration, Uint8Array | undefined> {
    checkSignal(options.signal)
    const pages = walkNamespace(this.#requests, point, namespace, {
      cookie: options.cookie,
      limit: options.pageSize,
      maxPages: options.maxPages ?? DEFAULT_WALK_PAGES,
      pageSignal: options.signal == null ? undefined : () => options.signal as AbortSignal
    })
    let next = await pages.next()
    for (; next.done !== true; next = await pages.next()) yield * next.value.registrations
    return next.value.cookie
  }
}
