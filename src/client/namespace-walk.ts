import { equals } from 'uint8arrays/equals'
import type { DiscoverResult } from './api.ts'
import type { PageOptions } from './requests.ts'
import type { DialTarget } from '@libp2p/interface'

/** What a walk asks a page of: `Requests` */
export interface PageSource {
  discover(point: DialTarget, namespace: string | undefined, options: PageOptions): Promise<DiscoverResult>
}

export interface WalkOptions extends Pick<PageOptions, 'onRegistration'> {
  /** Start after what this cookie has seen; a walk without one is a full walk */
  cookie?: Uint8Array
  /** Registrations asked for per page; absent, the point's own page size */
  limit?: number
  /** Most pages to fetch */
  maxPages: number
  /** The signal of one page's request; called once per page and cleared after it. Absent: each page has the default timeout */
  pageSignal?(): AbortSignal & { clear?(): void }
}

export interface WalkResult {
  /** What to send next time to hear only about what this walk did not see */
  cookie?: Uint8Array
  /** Whether the walk started (or started over) without a cookie: if also complete, it saw everything the point holds */
  full: boolean
  /** Whether the point had nothing more to give when the walk ended */
  complete: boolean
  /** Registrations the point returned (verified or not) since the walk last started without a cookie, or since its start */
  received: number
}

/**
 * Walk `namespace` at one point, page by page, following cookies to the end:
 * the one walk behind the client's `discoverAll`, the discovery service's
 * polls and rounds, and the command line's watcher. Yields each page as it
 * arrives and returns how the walk ended. Each page is its own request under
 * its own signal, so a slow page cannot eat the time of the next. Copes with
 * how points differ:
 * - a cookie the point refuses (E_INVALID_COOKIE: expired, from before a
 *   restart) is dropped and the walk starts over without one, once;
 * - E_INVALID_NAMESPACE for a namespace nobody registered in (nim) is an
 *   empty namespace;
 * - no cookie in a response ends the walk; it is complete when the page was
 *   short, because a point that neither pages nor caps cannot have held more;
 * - points that cap the page below our size still send full pages, so only
 *   an empty page, a missing cookie or the cookie we sent ends it.
 */
export async function * walkNamespace (source: PageSource, point: DialTarget, namespace: string | undefined, options: WalkOptions): AsyncGenerator<DiscoverResult, WalkResult, undefined> {
  let cookie = options.cookie
  let full = cookie == null
  let startedOver = false
  let received = 0

  for (let pages = 0; pages < options.maxPages; pages++) {
    const signal = options.pageSignal?.()
    let page: DiscoverResult
    try {
      page = await source.discover(point, namespace, { limit: options.limit, cookie, signal, onRegistration: options.onRegistration })
    } catch (err: any) {
      if (err?.name === 'InvalidCookieError' && cookie != null && !startedOver) {
        startedOver = true
        cookie = undefined
        full = true
        received = 0
        pages = -1
        continue
      }
      if (err?.name === 'InvalidNamespaceError' && namespace != null) {
        return { cookie, full, complete: true, received }
      }
      throw err
    } finally {
      signal?.clear?.()
    }

    yield page

    const count = page.registrations.length + page.dropped
    received += count
    if (count === 0) {
      return { cookie: page.cookie ?? cookie, full, complete: true, received }
    }
    if (page.cookie == null) {
      return { cookie, full, complete: options.limit == null || count < options.limit, received }
    }
    if (cookie != null && equals(page.cookie, cookie)) {
      // the point handed back what we sent: it has nothing after it
      return { cookie, full, complete: true, received }
    }
    cookie = page.cookie
  }

  return { cookie, full, complete: false, received }
}
