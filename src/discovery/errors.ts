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
