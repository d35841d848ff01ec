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
      const onResume = (): void => { listener('resume') }
      // one table, so that unsubscribing removes exactly what subscribing added
      const handlers: Array<[Pick<EventTarget, 'addEventListener' | 'removeEventListener'>, string, (event: Event) => void]> = [
        [doc, 'visibilitychange', () => { listener(doc.visibilityState === 'hidden' ? 'hidden' : 'visible') }],
        [doc, 'resume', onResume],
        [win, 'online', onResume],
        [win, 'pageshow', (event) => { if ((event as PageTransitionEvent).persisted) listener('resume') }],
        [win, 'beforeunload', () => { listener('leave') }],
        [win, 'pagehide', (event) => { if (!(event as PageTransitionEvent).persisted) listener('exit') }]
      ]
      for (const [target, type, handler] of handlers) target.addEventListener(type, handler)
      return () => {
        for (const [target, type, handler] of handlers) target.removeEventListener(type, handler)
      }
    }
  }
}
