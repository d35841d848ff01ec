/**
 * The error banner. It appears when an error happens and stays as it was
 * while that error lasts: the registration rows carry what changes (the
 * next attempt's countdown), so a retry every few seconds neither rewrites
 * the banner nor has screen readers announce it again. Dismissed, it stays
 * away until the error ends and another one happens.
 */
import type { Problem } from './errors.ts'

export interface Alert extends Problem {
  /** Same key, same error: the banner is left alone */
  key: string
  /** A line under the text, e.g. that the running session goes on */
  note?: string
}

function byId (id: string): HTMLElement {
  const el = document.getElementById(id)
  if (el == null) throw new Error(`#${id} is missing from the page`)
  return el
}

export class Banner {
  /** The key of the error on show, or dismissed while it lasts */
  private current?: string

  constructor () {
    byId('error-dismiss').addEventListener('click', () => { byId('error').hidden = true })
  }

  show (alert: Alert | undefined): void {
    if (alert?.key === this.current) return
    this.current = alert?.key
    const root = byId('error')
    if (alert == null) {
      root.hidden = true
      return
    }
    root.dataset.key = alert.key
    byId('error-title').textContent = alert.title
    byId('error-text').textContent = alert.text
    const note = byId('error-note')
    note.textContent = alert.note ?? ''
    note.hidden = alert.note == null
    root.hidden = false
  }
}
