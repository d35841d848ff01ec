/** Every rendezvous point failed the request; `errors` holds each point's failure, in the order of `points` */
export class AllPointsFailedError extends AggregateError {
  static name = 'AllPointsFailedError'
  constructor (errors: unknown[], message = `All ${errors.length} rendezvous points failed`) {
    super(errors, message)
    this.name = 'AllPointsFailedError'
  }
}

/**
 * The error to throw when no point succeeded: with one point its own error
 * (so callers can check `err.name === 'InvalidTTLError'`), with several an
 * `AllPointsFailedError` holding them all.
 */
export function failureOf (errors: unknown[]): unknown {
  return errors.length === 1 ? errors[0] : new AllPointsFailedError(errors)
}

/**
/**
 * The node's connection gater refuses every address of every rendezvous
 * point, so nothing could ever reach one. In browsers libp2p refuses `ws://`
 * and private or loopback addresses by default; the message says what to do.
 */
export class PointsDeniedError extends Error {
  static name = 'PointsDeniedError'
  constructor (addresses: string[]) {
    super(`The connection gater refuses every rendezvous point (${addresses.join(', ')}). In browsers libp2p refuses ws:// and private or loopback addresses: ` +
      'for a point on your own machine or network, pass connectionGater: { denyDialMultiaddr: () => false } to createLibp2p (in development only); ' +
      'in production, reach the point at a /wss address on a public name')
    this.name = 'PointsDeniedError'
  }
}

/**
 * A failure as `PointState` and `RegistrationState` report it: its message
 * and name. A browser's WebSocket rejects a dial with a bare DOM `Event`,
 * which has neither; say what it was and where, not "[object Event]".
 */
export function describeFailure (err: any): { error: string, errorName?: string } {
  if (typeof Event !== 'undefined' && err instanceof Event) {
    const target: any = err.target
    const url = typeof target?.url === 'string' ? ` (${target.url})` : ''
    return { error: `${target?.constructor?.name ?? 'unknown'} ${err.type} event${url}`, errorName: err.constructor.name }
  }
  return { error: String(err?.message ?? err), errorName: err?.name }
}
