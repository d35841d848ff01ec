/**
 * Errors are checked by `err.name`, as everywhere in js-libp2p. Every non-OK
 * status a rendezvous point can answer has its own class; they share
 * `RendezvousError`, which carries the numeric status and the point's own text.
 * The names are the ones py-libp2p's rendezvous uses too, so its users find
 * the errors they know.
 */
import type { Schema } from './protocol/peer-info.ts'

/** The numeric response statuses of the rendezvous spec */
export const ResponseStatusCode = {
  OK: 0,
  E_INVALID_NAMESPACE: 100,
  E_INVALID_SIGNED_PEER_RECORD: 101,
  E_INVALID_TTL: 102,
  E_INVALID_COOKIE: 103,
  E_NOT_AUTHORIZED: 200,
  E_INTERNAL_ERROR: 300,
  E_UNAVAILABLE: 400
} as const

export type ResponseStatusName = keyof typeof ResponseStatusCode

/** A rendezvous point answered with a status other than OK */
export class RendezvousError extends Error {
  static name = 'RendezvousError'
  /** The spec's status name, e.g. `E_INVALID_TTL` */
  readonly status: ResponseStatusName
  /** The spec's numeric status, e.g. 102 */
  readonly code: number
  /** The point's `statusText`, when it sent one */
  readonly statusText?: string

  constructor (status: ResponseStatusName, statusText?: string, message?: string) {
    super(message ?? (statusText != null && statusText !== '' ? `${status}: ${statusText}` : status))
    this.name = 'RendezvousError'
    this.status = status
    this.code = ResponseStatusCode[status]
    this.statusText = statusText
  }
}

/** E_INVALID_NAMESPACE: the namespace is empty, too long or unknown */
export class InvalidNamespaceError extends RendezvousError {
  static name = 'InvalidNamespaceError'
  constructor (statusText?: string) {
    super('E_INVALID_NAMESPACE', statusText)
    this.name = 'InvalidNamespaceError'
  }
}

/** E_INVALID_SIGNED_PEER_RECORD: the record does not verify or is unusable */
export class InvalidSignedPeerRecordError extends RendezvousError {
  static name = 'InvalidSignedPeerRecordError'
  constructor (statusText?: string) {
    super('E_INVALID_SIGNED_PEER_RECORD', statusText)
    this.name = 'InvalidSignedPeerRecordError'
  }
}

/**
 * Status 101 from a point of the pre-2020 schema (py-libp2p, berty's go),
 * which calls it E_INVALID_PEER_INFO: it refused the PeerInfo we sent. The
 * status is the same as for a signed record, so it is also an
 * `InvalidSignedPeerRecordError`.
 */
export class InvalidPeerInfoError extends InvalidSignedPeerRecordError {
  static name = 'InvalidPeerInfoError'
  constructor (statusText?: string) {
    super(statusText)
    this.name = 'InvalidPeerInfoError'
    this.message = statusText != null && statusText !== '' ? `E_INVALID_PEER_INFO: ${statusText}` : 'E_INVALID_PEER_INFO'
  }
}

/** E_INVALID_TTL: the requested TTL is outside what the point admits */
export class InvalidTTLError extends RendezvousError {
  static name = 'InvalidTTLError'
  constructor (statusText?: string) {
    super('E_INVALID_TTL', statusText)
    this.name = 'InvalidTTLError'
  }
}

/** E_INVALID_COOKIE: the cookie is malformed, stale or for another namespace */
export class InvalidCookieError extends RendezvousError {
  static name = 'InvalidCookieError'
  constructor (statusText?: string) {
    super('E_INVALID_COOKIE', statusText)
    this.name = 'InvalidCookieError'
  }
}

/** E_NOT_AUTHORIZED: e.g. a record of another peer, or too many registrations */
export class NotAuthorizedError extends RendezvousError {
  static name = 'NotAuthorizedError'
  constructor (statusText?: string) {
    super('E_NOT_AUTHORIZED', statusText)
    this.name = 'NotAuthorizedError'
  }
}

/** E_INTERNAL_ERROR: the point failed while handling the request */
export class InternalError extends RendezvousError {
  static name = 'InternalError'
  constructor (statusText?: string) {
    super('E_INTERNAL_ERROR', statusText)
    this.name = 'InternalError'
  }
}

/** E_UNAVAILABLE: the point is full or its store is down; try again later */
export class UnavailableError extends RendezvousError {
  static name = 'UnavailableError'
  constructor (statusText?: string) {
    super('E_UNAVAILABLE', statusText)
    this.name = 'UnavailableError'
  }
}

/** We have no address to put in our peer record, so no point would accept it */
export class NoAddressesError extends Error {
  static name = 'NoAddressesError'
  constructor (message = 'This node has no addresses to register') {
    super(message)
    this.name = 'NoAddressesError'
  }
}

const errorForStatus: Record<Exclude<ResponseStatusName, 'OK'>, new (statusText?: string) => RendezvousError> = {
  E_INVALID_NAMESPACE: InvalidNamespaceError,
  E_INVALID_SIGNED_PEER_RECORD: InvalidSignedPeerRecordError,
  E_INVALID_TTL: InvalidTTLError,
  E_INVALID_COOKIE: InvalidCookieError,
  E_NOT_AUTHORIZED: NotAuthorizedError,
  E_INTERNAL_ERROR: InternalError,
  E_UNAVAILABLE: UnavailableError
}

/** The named error for a non-OK status; `schema` is what the point speaks, which only changes the name of status 101 */
export function statusToError (status: Exclude<ResponseStatusName, 'OK'>, statusText?: string, schema: Schema = 'signed-record'): RendezvousError {
  if (schema === 'peer-info' && status === 'E_INVALID_SIGNED_PEER_RECORD') return new InvalidPeerInfoError(statusText)
  return new errorForStatus[status](statusText)
}

/**
 * The point closed the stream without answering. rust and nim points do this
 * for a request they cannot decode or will not serve.
 */
export class NoResponseError extends Error {
  static name = 'NoResponseError'
  constructor (message = 'The rendezvous point closed the stream without answering') {
    super(message)
    this.name = 'NoResponseError'
  }
}

/**
 * The JavaScript runtime lacks something libp2p needs (Node 20 has neither
 * `Promise.withResolvers` nor a global `WebSocket`); the message says what to do
 */
export class UnsupportedRuntimeError extends Error {
  static name = 'UnsupportedRuntimeError'
  constructor (message: string) {
    super(message)
    this.name = 'UnsupportedRuntimeError'
  }
}
