/**
 * Errors in words a user understands. libp2p errors are told apart by
 * `err.name`; a WebSocket that fails in a browser rejects with a DOM `Event`,
 * which has no message at all.
 */

export interface ErrorContext {
  /** The point we were talking to, if any */
  point?: string
  namespace?: string
}

function nameOf (err: any): string {
  if (err == null) return ''
  if (typeof Event !== 'undefined' && err instanceof Event) return 'WebSocketError'
  return String(err.name ?? '')
}

/** The error's own message, whatever shape it has */
export function messageOf (err: any): string {
  if (err == null) return ''
  if (typeof Event !== 'undefined' && err instanceof Event) return 'the WebSocket failed'
  if (Array.isArray(err.errors) && err.errors.length > 0) return messageOf(err.errors[0])
  return String(err.message ?? err)
}

const unreachable = new Set([
  'WebSocketError', 'DialError', 'NoValidAddressesError', 'ConnectionFailedError', 'TimeoutError', 'AbortError',
  'ConnectionClosedError', 'ConnectionClosingError', 'StreamResetError', 'MuxerClosedError', 'EncryptionFailedError',
  'UnexpectedEOFError', 'AggregateError'
])

/** An error as the page shows it: what went wrong in a few words, then in full with what to do */
export interface Problem {
  title: string
  text: string
}

export function describeError (err: any, context: ErrorContext = {}): Problem {
  const name = nameOf(err)
  const message = messageOf(err)
  const at = context.point != null ? ` at ${context.point}` : ''
  const statusText = typeof err?.statusText === 'string' && err.statusText !== '' ? ` It said: “${err.statusText}”.` : ''

  switch (name) {
    case 'InputError':
      return { title: String(err.title ?? 'Check the settings'), text: message }
    case 'InvalidNamespaceError':
      return { title: 'Namespace refused', text: `The rendezvous point${at} refused the namespace “${context.namespace ?? ''}”.${statusText} Try a shorter or plainer one.` }
    case 'NotAuthorizedError':
      return { title: 'Registration refused', text: `The rendezvous point${at} refused our registration.${statusText}` }
    case 'InvalidTTLError':
      return { title: 'Lifetime refused', text: `The rendezvous point${at} does not accept the registration lifetime we asked for.${statusText} Leave out ttl= in the URL to use the default.` }
    case 'UnavailableError':
    case 'InternalError':
      return { title: 'Rendezvous point in trouble', text: `The rendezvous point${at} is having trouble (it is full or its storage is down); trying again shortly.${statusText}` }
    case 'NoAddressesError':
      return { title: 'No address yet', text: 'This page has no address others could reach yet: it is still waiting for a relay slot at the point.' }
    case 'DialDeniedError':
      return { title: 'Dial refused by the browser', text: `The browser's libp2p refused to dial${at}: plain ws:// and private addresses are blocked unless the page allows them.` }
    case 'UnsupportedProtocolError':
      return { title: 'Not a rendezvous point', text: `The peer${at} answered but is not a rendezvous point (it does not speak /rendezvous/1.0.0). Check the address.` }
    case 'NoResponseError':
      return { title: 'No answer', text: `The rendezvous point${at} closed the stream without answering.` }
    case 'InvalidMultiaddrError':
      return { title: 'Not a multiaddr', text: `That is not a valid multiaddr: ${message}` }
  }
  if (unreachable.has(name) || /ECONNREFUSED|WebSocket|dial|closed|timed? ?out|abort/i.test(message)) {
    return { title: 'Rendezvous point unreachable', text: `Cannot reach the rendezvous point${at}. Is it running, and is the address right? (${message || name})` }
  }
  return { title: 'Something went wrong', text: `Something went wrong${at}: ${message || name || 'unknown error'}` }
}
