/**
 * What the page is doing, as far as timers care. Browsers throttle timers
 * in hidden tabs, stop them in frozen ones and do not count suspended time,
 * so the service re-checks its deadlines whenever the page comes back.
 * Injected so tests can hide and show a page without a browser.
 */

/**
 * - `visible` / `hidden`: the page's visibility changed
 * - `resume`: the page may have missed timers (resumed from freeze, restored
 *   from the back/forward cache, or back online); overdue work should run
 * - `leave`: the page may be about to go (`beforeunload`): it is not sure yet
 *   (the unload can be cancelled, or the page kept in the bfcache), but this
 *   is the last moment with time enough to send anything
 * - `exit`: the page is being unloaded for good (not kept in the bfcache)
 */
export type PageLifecycleEvent = 'visible' | 'hidden' | 'resume' | 'leave' | 'exit'

export interface Visibility {
  /** Whether the page is visible now */
  readonly visible: boolean
  /** Be told about lifecycle changes; returns a function that stops it */
  subscribe(listener: (event: PageLifecycleEvent) => void): () => void
}

/** For places without pages (Node, workers): always visible, never told anything */
export const alwaysVisible: Visibility = {
  visible: true,
  subscribe: () => () => {}
}

interface PageEventTargets {
  document: Pick<Document, 'visibilityState' | 'addEventListener' | 'removeEventListener'>
  window: Pick<Window, 'addEventListener' | 'removeEventListener'>
}

/**
 * The page's own visibility and lifecycle events: `visibilitychange`,
 * `resume`, `online`, `pageshow` (from the bfcache), `beforeunload` and
 * `pagehide` (`exit` only when the page will not be kept in the bfcache,
 * because a page that is kept may come back and still be registered).
 * Falls back to `alwaysVisible` where there is no document.
 */
export function documentVisibility (targets?: PageEventTargets): Visibility {
  const doc = targets?.document ?? globalThis.document
  const win = targets?.window ?? (globalThis as { window?: Window }).window
  if (doc == null || win == null) {
    return alwaysVisible
  }

  return {
    get visible () {
      return doc.visibilityState !== 'hidden'
    },
    subscribe (listener) {
      const onVisibility = (): void => { listener(doc.visibilityState === 'hidden' ? 'hidden' : 'visible') }
      const onResume = (): void => { listener('resume') }
      const onPageShow = (event: Event): void => {
        if ((event as PageTransitionEvent).persisted) listener('resume')
      }
      const onBeforeUnload = (): void => { listener('leave') }
      const onPageHide = (event: Event): void => {
        if (!(event as PageTransitionEvent).persisted) listener('exit')
      }
      doc.addEventListener('visibilitychange', onVisibility)
      doc.addEventListener('resume', onResume)
      win.addEventListener('online', onResume)
      win.addEventListener('pageshow', onPageShow)
      win.addEventListener('beforeunload', onBeforeUnload)
      win.addEventListener('pagehide', onPageHide)
      return () => {
        doc.removeEventListener('visibilitychange', onVisibility)
        doc.removeEventListener('resume', onResume)
        win.removeEventListener('online', onResume)
        win.removeEventListener('pageshow', onPageShow)
        win.removeEventListener('beforeunload', onBeforeUnload)
        win.removeEventListener('pagehide', onPageHide)
      }
    }
  }
}
