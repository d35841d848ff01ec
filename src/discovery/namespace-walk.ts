import { equals } from 'uint8arrays/equals'
import type { DiscoverResult, Registration, RendezvousClient } from '../client/rendezvous-client.ts'
import type { DialTarget } from '@libp2p/interface'

export interface WalkOptions {
  /** Start after what this cookie has seen; a walk without one is a full walk */
  cookie?: Uint8Array
  /** Registrations asked for per page */
  limit: number
  /** Most pages to fetch */
  maxPages: number
  /** A signal for one page's request; called once per page, cleared after it */
  pageSignal(): AbortSignal & { clear?(): void }
  /** Called with every page's verified registrations as it arrives */
  onPage(registrations: Registration[]): void
}

export interface WalkResult {
  /** What to send next time to hear only about what this walk did not see */
  cookie?: Uint8Array
  /** Whether the walk started without a cookie (it saw everything the point holds, if also complete) */
  full: boolean
  /** Whether the point had nothing more to give when the walk ended */
  complete: boolean
  /** Registrations the points returned (verified or not) since the walk last started without a cookie, or since its start */
  received: number
}

/**
 * Walk `namespace` at one point, page by page, following cookies to the end.
 * Each page is its own request under its own signal, so a slow page cannot
 * eat the time of the next. Copes with how points differ:
 * - a cookie the point refuses (E_INVALID_COOKIE: expired, from before a
 *   restart) is dropped and the walk starts over without one, once;
 * - E_INVALID_NAMESPACE for a namespace nobody registered in (nim) is an
 *   empty namespace;
 * - no cookie in a response ends the walk; it is complete when the page was
 *   short, because a point that neither pages nor caps cannot have held more.
 */
export async function walkNamespace (client: RendezvousClient, target: DialTarget, namespace: string, options: WalkOptions): Promise<WalkResult> {
  let cookie = options.cookie
  let full = cookie == null
  let retriedWithoutCookie = false
  let received = 0

  for (let pages = 0; pages < options.maxPages; pages++) {
    const signal = options.pageSignal()
    let page: DiscoverResult
    try {
      page = await client.discover(target, namespace, { limit: options.limit, cookie, signal })
    } catch (err: any) {
      if (err?.name === 'InvalidCookieError' && cookie != null && !retriedWithoutCookie) {
        retriedWithoutCookie = true
        cookie = undefined
        full = true
        received = 0
        pages = -1
        continue
      }
      if (err?.name === 'InvalidNamespaceError') {
        return { cookie, full, complete: true, received }
      }
      throw err
    } finally {
      signal.clear?.()
    }

    options.onPage(page.registrations)

    const count = page.registrations.length + page.dropped
    received += count
    if (count === 0) {
      return { cookie: page.cookie ?? cookie, full, complete: true, received }
    }
    if (page.cookie == null) {
      return { cookie, full, complete: count < options.limit, received }
    }
    if (cookie != null && equals(page.cookie, cookie)) {
      // the point handed back what we sent: it has nothing after it
      return { cookie, full, complete: true, received }
    }
    cookie = page.cookie
  }

  return { cookie, full, complete: false, received }
}
