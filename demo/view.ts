/**
 * Rendering: turns plain data into DOM. Rows are keyed (by point, by peer id)
 * and updated in place, so the once-a-second countdown refresh does not steal
 * focus from a button or restart animations.
 */
import { copyButton, copyable } from './copy.ts'
import type { Problem } from './errors.ts'

export interface RegistrationView {
  /** The point's peer id */
  point: string
  /** Its address(es), as given */
  address: string
  state: 'registering' | 'registered' | 'error'
  /** What is going on, when state is 'registering' */
  note?: string
  /** Seconds the point granted */
  ttl?: number
  /** Milliseconds since the epoch */
  expiresAt?: number
  /** Milliseconds since the epoch */
  nextRefreshAt?: number
  /** Milliseconds since the epoch of the next attempt, when state is 'error' */
  retryAt?: number
  /** What went wrong, when state is 'error' */
  error?: Problem
}

export interface PeerView {
  id: string
  multiaddrs: string[]
  /** Milliseconds since the epoch */
  expiresAt?: number
  source: 'cache' | 'network'
  /** Whether we have a connection to it now */
  connected?: 'relayed' | 'direct'
}

export interface ConnectionView {
  state: 'busy' | 'ok' | 'error'
  text: string
}

function element<K extends keyof HTMLElementTagNameMap> (tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  if (className != null) el.className = className
  if (text != null) el.textContent = text
  return el
}

function byId<T extends HTMLElement = HTMLElement> (id: string): T {
  const el = document.getElementById(id)
  if (el == null) throw new Error(`#${id} is missing from the page`)
  return el as T
}

/** "1 h 59 min", "1 min 05 s", "12 s" */
export function formatDuration (ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`
  if (s >= 60) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
  return `${s} s`
}

/** 12D3KooWAbc…xyz9 */
export function shortId (id: string): string {
  return id.length > 20 ? `${id.slice(0, 12)}…${id.slice(-6)}` : id
}

export const form = {
  get root (): HTMLFormElement { return byId<HTMLFormElement>('settings') },
  get points (): HTMLTextAreaElement { return byId<HTMLTextAreaElement>('points') },
  get namespace (): HTMLInputElement { return byId<HTMLInputElement>('namespace') },
  get leave (): HTMLButtonElement { return byId<HTMLButtonElement>('leave') }
}

export function showSelf (id: string | undefined, addrs: string[], placeholder: string): void {
  byId('self-id').textContent = id ?? placeholder
  const copy = byId('self-id-copy')
  copy.dataset.copy = id ?? ''
  copy.hidden = id == null
  const list = byId('self-addrs')
  const joined = `${id ?? ''} ${addrs.join(' ')}`
  if (list.dataset.value === joined) return
  list.dataset.value = joined
  list.replaceChildren()
  if (addrs.length === 0) {
    list.append(element('span', 'muted', id == null ? '—' : 'nowhere yet: waiting for a relay slot at the point'))
  }
  for (const addr of addrs) list.append(copyable('addr', addr, 'address'))
}

/** When a failing point is tried again */
function nextAttempt (reg: RegistrationView, now: number): string {
  if (reg.state !== 'error') return ''
  if (reg.retryAt == null) return 'Trying again with the next request.'
  return reg.retryAt > now ? `Next attempt in ${formatDuration(reg.retryAt - now)}.` : 'Trying again now…'
}

function registrationDetail (reg: RegistrationView, now: number): string {
  if (reg.state === 'error') return reg.error?.text ?? 'failed'
  if (reg.state === 'registering') return reg.note ?? 'registering…'
  const parts: string[] = []
  if (reg.expiresAt != null) parts.push(`expires in ${formatDuration(reg.expiresAt - now)}`)
  else if (reg.ttl != null) parts.push(`TTL ${formatDuration(reg.ttl * 1000)}`)
  if (reg.nextRefreshAt != null) parts.push(`refresh in ${formatDuration(reg.nextRefreshAt - now)}`)
  return parts.join(' · ')
}

export function showRegistrations (registrations: RegistrationView[], now: number): void {
  const list = byId('registrations')
  const existing = new Map<string, HTMLElement>()
  for (const li of Array.from(list.children) as HTMLElement[]) existing.set(li.dataset.point ?? '', li)

  const rows = registrations.map(reg => {
    let li = existing.get(reg.point)
    if (li == null) {
      li = element('li', 'registration')
      li.dataset.testid = 'registration'
      li.dataset.point = reg.point
      li.dataset.address = reg.address
      const retry = element('span', 'retry')
      retry.dataset.testid = 'next-attempt'
      li.append(element('span', 'badge'), element('code', 'point', reg.address), element('span', 'detail'), retry)
    }
    existing.delete(reg.point)
    li.dataset.state = reg.state
    if (reg.retryAt != null) li.dataset.retryAt = String(reg.retryAt)
    else delete li.dataset.retryAt
    const [badge, , detail, retry] = Array.from(li.children) as HTMLElement[]
    badge.className = `badge ${reg.state}`
    badge.textContent = reg.state
    detail.textContent = registrationDetail(reg, now)
    retry.textContent = nextAttempt(reg, now)
    retry.hidden = reg.state !== 'error'
    return li
  })
  for (const stale of existing.values()) stale.remove()
  list.replaceChildren(...rows)
  if (registrations.length === 0) list.append(element('li', 'muted', 'not registered anywhere: enter a rendezvous point above and press Join'))
}

export function showPeers (peers: PeerView[], connections: Map<string, ConnectionView>, now: number, onConnect: (peer: PeerView) => void): void {
  const list = byId('peer-list')
  const existing = new Map<string, HTMLElement>()
  for (const li of Array.from(list.children) as HTMLElement[]) existing.set(li.dataset.peerId ?? '', li)

  const sorted = [...peers].sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  const rows = sorted.map(peer => {
    let li = existing.get(peer.id)
    if (li == null) li = peerRow(peer.id)
    existing.delete(peer.id)
    updatePeerRow(li, peer, connections.get(peer.id), now, onConnect)
    return li
  })
  for (const stale of existing.values()) stale.remove()
  // only touch the list when the order or membership changed, to keep rows (and focus) in place
  const current = Array.from(list.children)
  if (current.length !== rows.length || rows.some((row, i) => current[i] !== row)) list.replaceChildren(...rows)

  byId('peer-count').textContent = peers.length > 0 ? String(peers.length) : ''
  byId('no-peers').hidden = peers.length > 0
}

function peerRow (id: string): HTMLElement {
  const li = element('li', 'peer')
  li.dataset.peerId = id
  const head = element('div', 'head')
  const code = element('code', 'peer-id', shortId(id))
  code.title = id
  head.append(code, copyButton('peer id', id), element('span', 'badge source'), element('span', 'meta expiry'))
  const actions = element('div', 'actions')
  const status = element('span', 'status')
  status.dataset.testid = 'peer-status'
  const button = element('button', 'small', 'Connect & ping')
  button.type = 'button'
  button.dataset.testid = 'connect'
  actions.append(status, button)
  const addrs = element('div', 'addrs')
  addrs.dataset.testid = 'peer-addrs'
  li.append(head, actions, addrs)
  return li
}

function updatePeerRow (li: HTMLElement, peer: PeerView, connection: ConnectionView | undefined, now: number, onConnect: (peer: PeerView) => void): void {
  li.dataset.source = peer.source
  const badge = li.querySelector<HTMLElement>('.source')!
  badge.className = `badge source ${peer.source}`
  badge.textContent = peer.source === 'cache' ? 'cache' : 'network'
  badge.title = peer.source === 'cache' ? 'Remembered by this browser; the point has not confirmed it yet' : 'Returned by the rendezvous point'
  li.querySelector('.expiry')!.textContent = peer.expiresAt != null ? `expires in ${formatDuration(peer.expiresAt - now)}` : ''

  const addrs = li.querySelector<HTMLElement>('.addrs')!
  const joined = peer.multiaddrs.join('\n')
  if (addrs.dataset.value !== joined) {
    addrs.dataset.value = joined
    addrs.replaceChildren(...(peer.multiaddrs.length > 0 ? peer.multiaddrs.map(a => copyable('addr', a, 'address')) : [element('span', 'muted', 'no addresses')]))
  }

  // a ping result, or else whether the peer is connected to us (it may have dialled us)
  const shown: ConnectionView | undefined = connection?.state === 'busy' || connection?.state === 'error' || (connection != null && peer.connected != null)
    ? connection
    : peer.connected != null ? { state: 'ok', text: `connected ${peer.connected === 'relayed' ? 'via relay' : 'directly'}` } : undefined
  if (peer.connected != null) li.dataset.connected = peer.connected
  else delete li.dataset.connected
  const status = li.querySelector<HTMLElement>('.status')!
  status.textContent = shown?.text ?? ''
  if (shown != null) status.dataset.state = shown.state
  else delete status.dataset.state
  const button = li.querySelector<HTMLButtonElement>('.actions button')!
  button.disabled = connection?.state === 'busy'
  button.textContent = connection?.state === 'ok' ? 'Ping again' : 'Connect & ping'
  button.onclick = () => { onConnect(peer) }
}
