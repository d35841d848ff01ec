/**
 * The live indicator: when a rendezvous point last answered us, and whether
 * the page is polling now. The SDK stops polling while the tab is hidden,
 * and the indicator says so rather than letting the time since the last
 * answer grow unexplained.
 */
import { formatDuration } from './view.ts'
import type { Liveness } from './session.ts'

export type LiveState = 'off' | 'connecting' | 'live' | 'paused' | 'down'

function stateOf (liveness: Liveness | undefined, hidden: boolean): LiveState {
  if (liveness == null) return 'off'
  if (hidden) return 'paused'
  if (liveness.ok) return 'live'
  return liveness.lastSuccessAt == null ? 'connecting' : 'down'
}

function textOf (state: LiveState, liveness: Liveness | undefined, now: number): string {
  const ago = liveness?.lastSuccessAt != null ? `${formatDuration(now - liveness.lastSuccessAt)} ago` : undefined
  switch (state) {
    case 'off': return ''
    case 'paused': return `Paused while this tab is hidden${ago != null ? ` · last poll ${ago}` : ''}`
    case 'live': return ago != null ? `Live · last poll ${ago}` : 'Live'
    case 'down': return `No answer · last poll ${ago ?? 'never'}`
    case 'connecting': return 'Connecting…'
  }
}

export function showLive (liveness: Liveness | undefined, hidden: boolean, now: number): void {
  const el = document.getElementById('live')
  if (el == null) throw new Error('#live is missing from the page')
  const state = stateOf(liveness, hidden)
  el.dataset.state = state
  if (liveness?.lastSuccessAt != null) el.dataset.lastSuccess = String(liveness.lastSuccessAt)
  else delete el.dataset.lastSuccess
  el.hidden = state === 'off'
  const text = el.querySelector<HTMLElement>('.text')
  if (text != null) text.textContent = textOf(state, liveness, now)
}
