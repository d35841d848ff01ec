/**
 * What the page is told to do: the rendezvous points and the namespace, read
 * from the query string (`?point=<multiaddr>&point=<multiaddr>&ns=<namespace>`)
 * or, when `npm run demo` started the page, from the local point it started.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface DemoConfig {
  points: string[]
  namespace: string
  /** Optional tuning, mainly for tests: requested TTL in seconds */
  ttl?: number
  /** Optional tuning, mainly for tests: milliseconds between discovery rounds */
  discoverInterval?: number
}

export const DEFAULT_NAMESPACE = 'demo'

/** Set by `npm run demo` to the multiaddr of the point it started */
const localPoint: string | undefined = import.meta.env.VITE_RENDEZVOUS_POINT

export function readConfig (search: string): DemoConfig {
  const query = new URLSearchParams(search)
  const points = query.getAll('point').map(p => p.trim()).filter(p => p !== '')
  return {
    points: points.length > 0 ? points : (localPoint != null && localPoint !== '' ? [localPoint] : []),
    namespace: query.get('ns') ?? DEFAULT_NAMESPACE,
    ttl: positiveNumber(query.get('ttl')),
    discoverInterval: positiveNumber(query.get('interval'))
  }
}

/** The query string that reproduces `config` */
export function writeConfig (config: DemoConfig): string {
  const query = new URLSearchParams()
  for (const point of config.points) query.append('point', point)
  query.set('ns', config.namespace)
  if (config.ttl != null) query.set('ttl', String(config.ttl))
  if (config.discoverInterval != null) query.set('interval', String(config.discoverInterval))
  return `?${query.toString()}`
}

function positiveNumber (value: string | null): number | undefined {
  if (value == null) return undefined
  const number = Number(value)
  return Number.isFinite(number) && number > 0 ? number : undefined
}

/** The form field a mistake is in */
export type InputField = 'points' | 'namespace'

/** A mistake in what the user typed: which field, what it is (`title`), and how to fix it (`message`) */
export class InputError extends Error {
  readonly field: InputField
  readonly title: string

  constructor (field: InputField, title: string, message: string) {
    super(message)
    this.name = 'InputError'
    this.field = field
    this.title = title
  }
}

const EXAMPLE = '/dns4/rendezvous.example.com/tcp/443/wss/p2p/12D3KooW…'

/** Parse one point address, or explain in plain words what is wrong with it */
export function parsePoint (text: string): Multiaddr {
  let ma: Multiaddr
  try {
    ma = multiaddr(text)
    // parsing is lazy: encoding checks every value
    void ma.bytes
  } catch {
    throw new InputError('points', 'Not a multiaddr', `“${text}” is not a multiaddr. A rendezvous point address looks like ${EXAMPLE}`)
  }
  const components = ma.getComponents()
  const peer = components.findLast(c => c.name === 'p2p')?.value
  if (peer == null) {
    throw new InputError('points', 'No peer id in the address', `“${text}” does not end in /p2p/<peer id>, so the page cannot check it is talking to the right point. Add the point's peer id, as in ${EXAMPLE}`)
  }
  try {
    peerIdFromString(peer)
  } catch {
    throw new InputError('points', 'Not a peer id', `“${peer}” in “${text}” is not a peer id. Peer ids look like 12D3KooW… or Qm…`)
  }
  const names = new Set(components.map(c => c.name))
  const certified = names.has('certhash') && (names.has('webrtc-direct') || names.has('webtransport'))
  if (!names.has('ws') && !names.has('wss') && !names.has('tls') && !certified) {
    throw new InputError('points', 'Not an address a browser can dial', `A browser cannot dial “${text}”: it reaches rendezvous points over WebSockets, WebRTC-direct or WebTransport, so the address needs /ws, /wss, /webrtc-direct/certhash/… or /webtransport/certhash/…, as in ${EXAMPLE}`)
  }
  return ma
}

/** Check the form's values; throws an `InputError` that names the first problem */
export function checkConfig (config: DemoConfig): Multiaddr[] {
  if (config.points.length === 0) {
    throw new InputError('points', 'No rendezvous point', `Enter the multiaddr of a rendezvous point, such as ${EXAMPLE}`)
  }
  const points = config.points.map(parsePoint)
  const namespace = config.namespace.trim()
  if (namespace === '') {
    throw new InputError('namespace', 'No namespace', 'Enter a namespace: peers find each other by registering in the same one.')
  }
  if (new TextEncoder().encode(namespace).byteLength > 255) {
    throw new InputError('namespace', 'Namespace too long', 'The namespace is too long: rendezvous points accept at most 255 bytes.')
  }
  return points
}

/**
 * A point on this machine or the local network, or one reached over plain
 * `ws://`: browsers' libp2p refuses to dial those unless told otherwise, which
 * the demo does only for such points.
 */
export function isLocalOrInsecure (ma: Multiaddr): boolean {
  for (const { name, value } of ma.getComponents()) {
    if (name === 'ws') return true
    if (name === 'dns' || name === 'dns4' || name === 'dns6') {
      if (value === 'localhost' || value?.endsWith('.localhost') === true || value?.endsWith('.local') === true) return true
    }
    if (name === 'ip4' && value != null && /^(127\.|10\.|192\.168\.|169\.254\.|172\.(1[6-9]|2\d|3[01])\.)/.test(value)) return true
    if (name === 'ip6' && value != null && /^(::1$|fe80:|fc|fd)/i.test(value)) return true
  }
  return false
}
