/** The page's visibility and lifecycle, from its own events, or none outside a page */
import type { Visibility } from '../api.ts'


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
